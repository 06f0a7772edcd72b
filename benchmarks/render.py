"""Micro-benchmark of the e-mail pipeline's CPU cost per message: render, track, build.

    .venv/bin/python -m benchmarks.render [--count 20000]

Compiles one ~20 KB (rendered) MJML newsletter once, then for every message renders
it for a different contact (own tracked links, open pixel and unsubscribe token)
and builds the MIME bytes. Prints microseconds per message for each step on one
core; `bulk_template()` is the template the delivery benchmark and tests use too.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from templates.context import contact_view, rep_view
from templates.message import Address, build_message
from templates.render import CompiledTemplate, RenderedEmail, compile_template, signer_for
from templates.tokens import TokenSigner

SECRET = "benchmark-secret-" + "x" * 32
BASE_URL = "https://mail.example.net"

_ARTICLE = """
    <mj-section background-color="#ffffff" padding="12px 24px">
      <mj-column width="35%">
        <mj-image src="https://cdn.example.net/img/article-{n}.png" alt="Article {n}"
                  href="https://example.net/insights/article-{n}?utm_source=newsletter" />
      </mj-column>
      <mj-column width="65%">
        <mj-text font-size="18px" font-weight="600" color="#1f2d3d" line-height="24px">
          Insight #{n}: what {{{{ contact.company.industry | default("your industry") }}}}
          leaders changed this quarter
        </mj-text>
        <mj-text font-size="14px" color="#4a5568" line-height="22px">
          Firms like {{{{ contact.company.name | default("yours") }}}} told us that long sales
          cycles reward patience and useful content: a clear point of view, evidence from
          comparable clients, and a follow-up rhythm that respects the buyer's calendar.
        </mj-text>
        <mj-button background-color="#2b6cb0" color="#ffffff" border-radius="4px"
                   href="https://example.net/insights/article-{n}?utm_medium=email&amp;c={{{{
                         contact.email | urlencode }}}}">
          Read insight #{n}
        </mj-button>
      </mj-column>
    </mj-section>"""

_TEMPLATE = """<mjml>
  <mj-head>
    <mj-title>{{{{ brand.name }}}} insights</mj-title>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text padding="6px 0" />
    </mj-attributes>
    <mj-style inline="inline">.footer a {{ color: #718096; }}</mj-style>
  </mj-head>
  <mj-body background-color="#f4f6f8" width="600px">
    <mj-section padding="24px">
      <mj-column>
        <mj-image width="150px" src="https://cdn.example.net/img/logo.png"
                  alt="{{{{ brand.name }}}}" href="https://example.net/" />
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="24px" font-weight="700" color="#1a202c">
          Hello {{{{ contact.first_name | default("there") }}}},
        </mj-text>
        <mj-text font-size="15px" color="#2d3748" line-height="24px">
          {{% if contact.title %}}As {{{{ contact.title }}}} at {{{{ contact.company.name }}}}, you
          {{% else %}}You {{% endif %}}are busy, so this month's letter is short: four insights
          from our work with firms in {{{{ contact.company.industry | default("your field") }}}},
          one case study and an invitation to our next webinar.
        </mj-text>
      </mj-column>
    </mj-section>
{articles}
    <mj-section background-color="#ebf4ff" padding="24px">
      <mj-column>
        <mj-text font-size="20px" font-weight="700">Case study: {{{{ case_study.title }}}}</mj-text>
        <mj-text font-size="14px" line-height="22px">{{{{ case_study.summary }}}}</mj-text>
        <mj-button href="{{{{ case_study.url }}}}" background-color="#2f855a">
          Read the case study
        </mj-button>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="14px" line-height="22px">
          Best regards,<br />{{{{ rep.name }}}}<br />{{{{ rep.title }}}}<br />
          <a href="mailto:{{{{ rep.email }}}}">{{{{ rep.email }}}}</a>
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px">
      <mj-column>
        <mj-text css-class="footer" font-size="12px" color="#718096" align="center">
          {{{{ brand.name }}}} · {{{{ brand.address }}}}<br />
          You receive this because you asked for our insights.
          <a href="{{{{ unsubscribe_url }}}}">Unsubscribe or choose topics</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""


def bulk_template() -> str:
    """A realistic newsletter: 3 articles, a case study, signature and footer (~20 KB HTML)."""
    articles = "".join(_ARTICLE.format(n=n) for n in range(1, 4))
    return _TEMPLATE.format(articles=articles)


def bulk_context(n: int) -> dict[str, Any]:
    """The context for contact number `n` (every one different)."""
    return {
        "contact": contact_view(
            email=f"person{n}@client{n % 97}.example.com",
            first_name=("Анна", "Ada", "Grace", "Борис")[n % 4] + str(n),
            last_name="Example",
            title="Head of Operations" if n % 3 else None,
            company_name=f"Client {n % 97} Ltd",
            company_industry=("manufacturing", "finance", "logistics")[n % 3],
        ),
        "rep": rep_view(name="Charles Babbage", email="charles@example.net", title="Partner"),
        "brand": {"name": "Example Partners", "address": "1 Example Street, London"},
        "case_study": {
            "title": "A 30% shorter lead time",
            "summary": "How a manufacturer rebuilt its planning with us in twelve weeks.",
            "url": "https://example.net/cases/lead-time",
        },
    }


def compiled_bulk() -> CompiledTemplate:
    return compile_template(
        "{{ contact.first_name | default('Hello') }}, four insights for "
        "{{ contact.company.name | default('you') }}",
        "Plus a case study from {{ contact.company.industry | default('your field') }}",
        bulk_template(),
    )


def render_one(
    compiled: CompiledTemplate, signer: TokenSigner, n: int
) -> tuple[RenderedEmail, bytes]:
    rendered = compiled.render(
        bulk_context(n), message_id=n + 1, contact_id=n + 1, base_url=BASE_URL, secret=signer
    )
    message = build_message(
        rendered,
        sender=Address("news@example.net", "Example Partners"),
        recipient=Address(f"person{n}@client{n % 97}.example.com", f"Person {n}"),
        headers={"X-Nurture-Message": f"msg-{n + 1}"},
    )
    return rendered, message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    started = time.perf_counter()
    compiled = compiled_bulk()
    compile_ms = (time.perf_counter() - started) * 1000
    signer = signer_for(SECRET)
    contexts = [bulk_context(n) for n in range(args.count)]
    rendered_all: list[RenderedEmail] = []
    clock = time.process_time  # CPU time: fair on a busy machine
    t0 = clock()
    for n, context in enumerate(contexts):
        rendered_all.append(
            compiled.render(
                context, message_id=n + 1, contact_id=n + 1, base_url=BASE_URL, secret=signer
            )
        )
    t1 = clock()
    sender = Address("news@example.net", "Example Partners")
    size = 0
    for n, rendered in enumerate(rendered_all):
        raw = build_message(
            rendered,
            sender=sender,
            recipient=Address(contexts[n]["contact"]["email"], f"Person {n}"),
            headers={"X-Nurture-Message": f"msg-{n + 1}"},
        )
        size += len(raw)
    t2 = clock()
    # Tracking alone: the same render with tracking off, to split its cost out.
    untracked = compile_template("s", "p", bulk_template(), tracking=False)
    t3 = clock()
    for n, context in enumerate(contexts):
        untracked.render(
            context, message_id=n + 1, contact_id=n + 1, base_url=BASE_URL, secret=signer
        )
    t4 = clock()
    count = args.count
    render_us = (t1 - t0) / count * 1e6
    build_us = (t2 - t1) / count * 1e6
    untracked_us = (t4 - t3) / count * 1e6
    print(
        f"template: {len(bulk_template())} bytes of MJML, compiled in {compile_ms:.0f} ms,"
        f" fast path: {compiled.fast}"
    )
    print(
        f"messages: {count}, average size {size / count / 1024:.1f} KiB,"
        f" {len(rendered_all[0].links)} tracked links each"
    )
    print(f"render + track (incl. text part): {render_us:7.1f} us/message")
    print(f"  of which tracking (links, pixel): {render_us - untracked_us:7.1f} us/message")
    print(f"build MIME bytes:                 {build_us:7.1f} us/message")
    print(
        f"total:                            {render_us + build_us:7.1f} us/message"
        f" = {count / ((t2 - t0) or 1e-9):.0f} messages/s on one core"
    )


if __name__ == "__main__":
    main()
