"""The content library: services, case studies, webinars and articles.

`library` holds create/read/update/delete for every kind (one validated,
audited path for the API, the UI and the demo seed); `selection` picks the
case study or webinar that fits a contact, for sequence steps.
"""
