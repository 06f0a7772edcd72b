"""CSV import of contacts: the file check and mapping, the chunked importer, and upload jobs."""
