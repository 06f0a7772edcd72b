"""The demo consultancy's content library: client stories, webinars and articles.

Plain data (and the addresses it is published at); nurture.demo.content loads it
through the library's own validated create functions. Clients are invented;
figures are typical of such work.
"""

from __future__ import annotations

from typing import NamedTuple


class Story(NamedTuple):
    title: str
    industry: str
    service: str  # a slug from nurture.demo.data.SERVICES
    client: str
    problem: str
    metrics: tuple[tuple[str, str], ...]
    quote: str
    author: str
    topics: tuple[str, ...]
    months_ago: int


class Event(NamedTuple):
    title: str
    topic: str
    industries: tuple[str, ...]
    days_from_now: int  # negative: already held
    duration_minutes: int
    capacity: int | None
    description: str


class Piece(NamedTuple):
    slug: str
    title: str
    topic: str
    summary: str
    months_ago: int


def case_study_link(story: Story) -> str:
    """Where a client story is published: demo e-mails link here, so clicks can be matched."""
    return f"https://example.com/case-studies/{story.service}-{story.industry.replace(' ', '-')}"


def article_url(piece: Piece) -> str:
    return f"https://example.com/insights/{piece.slug}"


SERVICE_DESCRIPTIONS = {
    "digital-strategy": "A twelve-week plan that ties technology spending to the firm's goals.",
    "process-automation": "Finding the manual, repeated work and automating it end to end.",
    "data-platform": "A governed data platform that finance and operations both trust.",
    "cloud-migration": "Moving workloads to the cloud without surprises on the invoice.",
    "cyber-security-review": "An outside view of controls, gaps and what to fix first.",
    "ai-readiness": "Where AI would pay off, and what data and rules it needs first.",
    "erp-selection": "Requirements, a shortlist and a decision the board can defend.",
    "managed-analytics": "Reports and dashboards run for you, month after month.",
}

STORIES = (
    Story(
        "Contract review in hours, not weeks",
        "legal",
        "ai-readiness",
        "Hartley & Moss LLP",
        "Associates spent 40% of their time on first-pass contract review.",
        (("Review time", "-72%"), ("Associate hours freed", "3,100 a year")),
        "We bill for judgement again, not for reading.",
        "Managing Partner",
        ("ai", "automation"),
        2,
    ),
    Story(
        "A matter-management overhaul",
        "legal",
        "process-automation",
        "Keller Legal",
        "Matters were tracked in e-mail and spreadsheets across three offices.",
        (("Missed deadlines", "0 in 12 months"), ("Intake time", "-55%")),
        "Nothing falls through the cracks any more.",
        "COO",
        ("automation", "compliance"),
        7,
    ),
    Story(
        "NIS2 readiness for a law firm",
        "legal",
        "cyber-security-review",
        "Brandt Partners",
        "Clients began asking for proof of security controls in every tender.",
        (("Critical gaps closed", "14 of 14"), ("Audit preparation", "6 weeks")),
        "We now answer security questionnaires in a day.",
        "IT Director",
        ("security", "compliance"),
        4,
    ),
    Story(
        "Month-end close in three days",
        "accounting",
        "process-automation",
        "Ashford Accountants",
        "Closing the books took nine working days and most weekends.",
        (("Close time", "-67%"), ("Overtime", "-60%")),
        "The team goes home on time at month-end now.",
        "Finance Director",
        ("finance", "automation"),
        3,
    ),
    Story(
        "An audit data platform",
        "accounting",
        "data-platform",
        "Whitcombe & Co. Audit",
        "Audit samples were pulled by hand from dozens of client systems.",
        (("Data preparation", "-80%"), ("Sample coverage", "100% of ledgers")),
        "We test every transaction instead of a sample.",
        "Head of Audit",
        ("data", "finance"),
        10,
    ),
    Story(
        "Patient scheduling that fills the gaps",
        "healthcare",
        "process-automation",
        "Northbridge Clinics",
        "One in eight appointment slots went unused.",
        (("No-shows", "-31%"), ("Utilisation", "+9 points")),
        "The waiting list is shorter than it has been in years.",
        "Operations Manager",
        ("automation", "operations"),
        5,
    ),
    Story(
        "A secure cloud for patient records",
        "healthcare",
        "cloud-migration",
        "Riverside Health Partners",
        "An ageing data centre held sensitive records.",
        (("Hosting cost", "-34%"), ("Recovery time", "4 h to 15 min")),
        "Security went up and the bill went down.",
        "CIO",
        ("cloud", "security"),
        12,
    ),
    Story(
        "Predictive maintenance on the line",
        "manufacturing",
        "data-platform",
        "Eastwick Precision",
        "Unplanned stops cost two shifts a month.",
        (("Unplanned downtime", "-41%"), ("Payback", "7 months")),
        "We fix machines before they stop.",
        "Plant Manager",
        ("data", "ai"),
        6,
    ),
    Story(
        "Choosing an ERP without regret",
        "manufacturing",
        "erp-selection",
        "Halvorsen Industrial",
        "Three ERP projects had stalled in ten years.",
        (("Selection time", "14 weeks"), ("Budget variance", "+2%")),
        "For once the board understood why we chose what we chose.",
        "CFO",
        ("erp", "finance"),
        9,
    ),
    Story(
        "Route planning that saves fuel",
        "logistics",
        "managed-analytics",
        "Ferrand Freight",
        "Routes were planned from memory by three dispatchers.",
        (("Fuel cost", "-12%"), ("On-time delivery", "96%")),
        "The dashboards run themselves; we just act on them.",
        "Head of Operations",
        ("data", "operations"),
        4,
    ),
    Story(
        "Warehouse automation, step by step",
        "logistics",
        "process-automation",
        "Oakmere Cargo",
        "Picking errors led to one return in twenty.",
        (("Picking errors", "-58%"), ("Orders per hour", "+22%")),
        "Small steps, each one paid for the next.",
        "Warehouse Director",
        ("automation", "operations"),
        8,
    ),
    Story(
        "One view of the customer",
        "retail",
        "data-platform",
        "Linden Home & Living",
        "Online and in-store sales lived in separate systems.",
        (("Repeat purchases", "+18%"), ("Report build time", "-90%")),
        "We finally know who our best customers are.",
        "Marketing Director",
        ("data", "customer"),
        3,
    ),
    Story(
        "Cloud costs under control",
        "retail",
        "cloud-migration",
        "Bramble Outfitters",
        "The cloud bill doubled in a year with no one owning it.",
        (("Monthly cloud spend", "-38%"), ("Idle resources", "-85%")),
        "Every team now sees what it spends.",
        "CTO",
        ("cloud", "finance"),
        1,
    ),
    Story(
        "Fraud checks in real time",
        "fintech",
        "ai-readiness",
        "Quillpay",
        "Fraud rules were tuned by hand once a quarter.",
        (("Fraud losses", "-44%"), ("False positives", "-30%")),
        "Our fraud team spends its time on real cases.",
        "Head of Risk",
        ("ai", "security"),
        2,
    ),
    Story(
        "Regulatory reporting on autopilot",
        "fintech",
        "managed-analytics",
        "Meridian Ledger",
        "Regulatory returns took a team of four a fortnight.",
        (("Preparation time", "-75%"), ("Resubmissions", "0 in a year")),
        "The regulator's deadlines no longer ruin our month.",
        "Compliance Officer",
        ("compliance", "finance"),
        11,
    ),
    Story(
        "Claims handled in days",
        "insurance",
        "process-automation",
        "Ashcombe Mutual",
        "Simple claims waited three weeks in a queue.",
        (("Claim cycle time", "21 to 4 days"), ("Customer satisfaction", "+17 points")),
        "Customers tell us we are fast. That is new.",
        "Claims Director",
        ("automation", "customer"),
        6,
    ),
    Story(
        "Security review before the audit",
        "insurance",
        "cyber-security-review",
        "Harrowgate Assurance",
        "An external audit was due in ten weeks.",
        (("High-risk findings", "-90%"), ("Audit result", "no major findings")),
        "We walked into the audit calm.",
        "CISO",
        ("security", "compliance"),
        13,
    ),
    Story(
        "Smart-meter data that pays",
        "energy",
        "data-platform",
        "Kestrel Renewables",
        "Meter data arrived daily and was used monthly.",
        (("Forecast accuracy", "+23%"), ("Imbalance costs", "-19%")),
        "We trade on today's data, not last month's.",
        "Head of Trading",
        ("data", "ai"),
        5,
    ),
    Story(
        "A digital strategy for a council",
        "public sector",
        "digital-strategy",
        "Westbrook County Council",
        "Forty projects competed for one budget.",
        (("Projects stopped", "11"), ("Online service use", "+35%")),
        "We now fund what residents actually use.",
        "Chief Executive",
        ("strategy", "customer"),
        15,
    ),
    Story(
        "Lab data in one place",
        "pharma",
        "data-platform",
        "Corvid Biosciences",
        "Trial data was copied between six systems by hand.",
        (("Data hand-offs", "-70%"), ("Time to analysis", "-45%")),
        "Scientists analyse instead of copying files.",
        "VP Research",
        ("data", "compliance"),
        8,
    ),
    Story(
        "AI pilots that reached production",
        "software",
        "ai-readiness",
        "Brightlane Labs",
        "Five AI pilots had never left the lab.",
        (("Pilots in production", "3 of 5"), ("Support tickets deflected", "28%")),
        "We stopped demoing and started shipping.",
        "VP Product",
        ("ai", "strategy"),
        1,
    ),
)

WEBINARS = (
    Event(
        "AI for partners: what to automate first",
        "ai",
        ("legal", "accounting", "professional services"),
        9,
        45,
        150,
        "Where AI saves fee earners' time today, and where it does not yet.",
    ),
    Event(
        "Month-end close in three days",
        "finance",
        ("accounting", "fintech", "retail"),
        16,
        60,
        100,
        "How finance teams remove the manual steps from the close.",
    ),
    Event(
        "Cloud cost clinic",
        "cloud",
        (),
        23,
        60,
        200,
        "Bring your cloud bill; we show where the money goes.",
    ),
    Event(
        "NIS2 in practice",
        "security",
        ("legal", "insurance", "energy", "healthcare"),
        30,
        75,
        120,
        "What the directive asks of you and how to prove it.",
    ),
    Event(
        "Data platform 101",
        "data",
        (),
        37,
        60,
        None,
        "The parts of a data platform, and the order to build them in.",
    ),
    Event(
        "Choosing an ERP without regret",
        "erp",
        ("manufacturing", "logistics", "retail"),
        44,
        60,
        80,
        "Requirements, shortlists and contracts that hold up.",
    ),
    Event(
        "Automation wins of the year",
        "automation",
        (),
        -20,
        60,
        150,
        "Six client stories of automation that paid for itself.",
    ),
    Event(
        "Security questionnaires, answered",
        "security",
        ("legal", "software"),
        -45,
        45,
        100,
        "How to answer client security reviews in a day.",
    ),
    Event(
        "Forecasting with smart-meter data",
        "data",
        ("energy",),
        -70,
        60,
        60,
        "From daily meter reads to better trading decisions.",
    ),
    Event(
        "A board's guide to digital strategy",
        "strategy",
        ("public sector",),
        -100,
        60,
        80,
        "Choosing the few projects that matter.",
    ),
)

ARTICLES = (
    Piece(
        "ai-in-professional-services",
        "AI in professional services",
        "ai",
        "Where firms that sell expertise use AI today, and where they should wait.",
        1,
    ),
    Piece(
        "cutting-month-end-close",
        "Cutting the month-end close",
        "finance",
        "A step-by-step method to a three-day close.",
        2,
    ),
    Piece(
        "cloud-costs-explained",
        "Cloud costs explained",
        "cloud",
        "Why cloud bills grow and the five habits that keep them flat.",
        3,
    ),
    Piece(
        "nis2-checklist",
        "The NIS2 checklist",
        "security",
        "Every obligation of the directive, with the evidence an auditor expects.",
        2,
    ),
    Piece(
        "data-platform-order-of-work",
        "Building a data platform in the right order",
        "data",
        "Sources, models, quality, then dashboards: the order that avoids rework.",
        5,
    ),
    Piece(
        "erp-requirements-that-matter",
        "ERP requirements that matter",
        "erp",
        "The twenty requirements that decide an ERP choice; the rest are noise.",
        6,
    ),
    Piece(
        "automation-business-case",
        "Writing an automation business case",
        "automation",
        "How to estimate savings your CFO will believe.",
        4,
    ),
    Piece(
        "ai-readiness-questions",
        "Ten questions before an AI project",
        "ai",
        "Data, rules and people: what to check before the first line of code.",
        7,
    ),
    Piece(
        "security-questionnaires",
        "Answering security questionnaires fast",
        "security",
        "A reusable evidence library for client security reviews.",
        8,
    ),
    Piece(
        "dashboards-people-use",
        "Dashboards people actually use",
        "data",
        "Fewer charts, clearer owners, and a meeting that reads them.",
        9,
    ),
    Piece(
        "digital-strategy-one-page",
        "A digital strategy on one page",
        "strategy",
        "The goals, the bets and the stops, on a single page.",
        10,
    ),
    Piece(
        "customer-data-retail",
        "Customer data for retailers",
        "customer",
        "Joining online and in-store sales to find your best customers.",
        11,
    ),
)
