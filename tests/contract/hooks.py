"""What schemathesis cannot derive from the description alone, for opsdesk's contract run.

- `cn-resident-id`: the description states the ID number's birth date and check character in
  words (no pattern can carry a checksum); this generates numbers that keep both rules.
- `application/octet-stream` uploads: a non-empty file, as the description says (an empty one
  is refused with 422).
- `image/*` uploads (a knowledge-base picture): a real PNG of any small size and colour, as
  the description says; bytes that are not a picture are refused with 422.
- `rust-regex`: a lookup's regex in the syntax the server compiles (Rust's `regex` crate):
  plain words, classes and counted repeats, which every regex dialect reads alike.
- A lookup's window: `to` not before `from`, as the description says in words.
"""

import datetime
import struct
import zlib

import schemathesis
from hypothesis import strategies as st

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def resident_id(region: int, birth: datetime.date, serial: int) -> str:
    first17 = f"{region:06d}{birth:%Y%m%d}{serial:03d}"
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return first17 + CHECK[total % 11]


schemathesis.openapi.format(
    "cn-resident-id",
    st.builds(
        resident_id,
        st.integers(110000, 659999),
        st.dates(datetime.date(1930, 1, 1), datetime.date(2008, 12, 31)),
        st.integers(0, 999),
    ),
)

schemathesis.openapi.media_type("application/octet-stream", st.binary(min_size=1, max_size=4096))


def png(width: int, height: int, rgb: tuple) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


schemathesis.openapi.media_type(
    "image/*",
    st.builds(
        png,
        st.integers(1, 64),
        st.integers(1, 64),
        st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    ),
)


# Pieces every dialect reads alike: plain words, digit and word classes, counted repeats.
schemathesis.openapi.format(
    "rust-regex",
    st.lists(
        st.one_of(
            st.text("abcxyz0189=:_ 账户", min_size=1, max_size=6),
            st.sampled_from([r"\d", r"\w", r"[0-9]", r"[a-z]", "."]).flatmap(
                lambda c: st.sampled_from([c, c + "+", c + "*", c + "{1,3}"])
            ),
        ),
        min_size=1,
        max_size=4,
    ).map("".join),
)


@schemathesis.hook("filter_body").apply_to(method="POST", path="/api/v1/lookups")
def window_in_order(context, body):
    if not isinstance(body, dict):
        return True
    start, end = body.get("from"), body.get("to")
    if not (isinstance(start, str) and isinstance(end, str)):
        return True
    try:
        parse = lambda t: datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
        return parse(start) <= parse(end)
    except ValueError:
        return True


# ISO weeks that exist: a week 53 only in the years that have one.
schemathesis.openapi.format(
    "iso-week",
    st.dates(datetime.date(1970, 1, 5), datetime.date(9999, 12, 24)).map(
        lambda d: "%04d-W%02d" % d.isocalendar()[:2]
    ),
)


def session_in_reach(body):
    """What a knowledge session's schema cannot say: a day from 2000 to a year ahead."""
    if not isinstance(body, dict):
        return True
    held = body.get("held_on")
    if isinstance(held, str):
        try:
            day = datetime.date.fromisoformat(held)
        except ValueError:
            return True
        today = datetime.date.today()
        if not (datetime.date(2000, 1, 1) <= day <= today + datetime.timedelta(days=365)):
            return False
    return True


@schemathesis.hook("filter_body").apply_to(method="POST", path="/api/v1/knowledge-sessions")
def new_session_in_reach(context, body):
    return session_in_reach(body)


@schemathesis.hook("filter_body").apply_to(method="PATCH", path="/api/v1/knowledge-sessions/{id}")
def session_change_in_reach(context, body):
    return session_in_reach(body)

