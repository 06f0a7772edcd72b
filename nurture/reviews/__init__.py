"""After the project: NPS surveys, testimonials and referrals (issue 15)."""
