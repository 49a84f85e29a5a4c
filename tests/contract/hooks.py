"""What schemathesis cannot derive from the description alone, for opsdesk's contract run.

- `cn-resident-id`: the description states the ID number's birth date and check character in
  words (no pattern can carry a checksum); this generates numbers that keep both rules.
- `application/octet-stream` uploads: a non-empty file, as the description says (an empty one
  is refused with 422).
"""

import datetime

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
