"""How MJML is cut into blocks: one top-level child of <mj-body> each, whatever it holds."""

from __future__ import annotations

from templates.blocks import Block, Document, read, write, write_block

HEAD = '<mjml>\n  <mj-body width="600px">\n'
TAIL = "  </mj-body>\n</mjml>\n"
DIVIDER = write_block(Block.make("divider"))


def kinds(mjml: str) -> list[str]:
    return [b.kind for b in read(mjml).blocks]


def test_head_and_tail_are_kept_verbatim_around_the_blocks() -> None:
    document = read(HEAD + DIVIDER + TAIL + "<!-- after -->")
    assert document == Document(HEAD, (Block.make("divider"),), TAIL + "<!-- after -->")


def test_a_condition_between_elements_stays_one_block_with_what_it_guards() -> None:
    guarded = "    {% if show %}\n" + DIVIDER + "    {% else %}\n" + DIVIDER + "    {% endif %}\n"
    document = read(HEAD + DIVIDER + guarded + DIVIDER + TAIL)
    assert [b.kind for b in document.blocks] == ["divider", "raw", "divider"]
    assert document.blocks[1].get("mjml") == guarded


def test_jinja_and_bare_characters_do_not_confuse_the_reader() -> None:
    text = Block.make("text", text="a < b && {{ '<mj-section>' }} {% if x > 1 %}big{% endif %}")
    button = Block.make("button", label="Go", href="{{ link if n > 1 else '/' }}")
    mjml = HEAD + write_block(text) + write_block(button) + TAIL
    assert read(mjml).blocks == (text, button)


def test_a_changed_section_opens_as_raw_and_keeps_every_character() -> None:
    edited = DIVIDER.replace("<mj-divider />", '<mj-divider border-color="#000" />')
    mjml = HEAD + edited + "    stray text\n" + "    <!-- a note -->\n" + TAIL
    assert kinds(mjml) == ["raw", "raw", "raw"]
    assert write(read(mjml)) == mjml


def test_an_unclosed_section_is_raw_up_to_the_end_of_the_body() -> None:
    mjml = HEAD + DIVIDER + "    <mj-section><mj-column>\n" + TAIL
    document = read(mjml)
    assert [b.kind for b in document.blocks] == ["divider", "raw"]
    assert document.tail == TAIL
    assert write(document) == mjml


def test_text_without_a_body_is_one_raw_block() -> None:
    assert read("Hello <b>") == Document("", (Block.make("raw", mjml="Hello <b>"),), "")
    assert read("") == Document("", (), "")


def test_a_marker_of_an_unknown_kind_is_raw() -> None:
    unknown = DIVIDER.replace("nb-divider", "nb-carousel")
    assert kinds(HEAD + unknown + TAIL) == ["raw"]
