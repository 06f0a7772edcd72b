"""The content library: services, case studies, webinars and articles.

`kinds` says what each kind is made of; `library` holds create/read/update/delete
for every kind (one validated, audited path for the API, the UI and the demo
seed); `selection` picks the case study or webinar that fits a contact, for
sequence steps; `seats` takes and gives back webinar seats without overfilling.
"""
