"""Nurture: marketing automation and lead nurturing for firms that sell services.

From the top floor down (docs/architecture.md draws them; .importlinter checks them):

- `web/`, `cli/`, `demo/`: the composition root. They wire every floor together, and
  nothing below imports them.
- `qualification/`, `scoring/`, `reviews/`: the lead and client domains, above campaigns.
- `imports/`: CSV import of contacts and its upload jobs.
- `events`, `event_writes`, `accounts`: event ingest; users and API keys.
- `contacts/`: the contact domain.
- `audit`, `models/`, `db`, `config`, `migrate`, `errors`, `validation`, `sqlsets`: the core.
"""
