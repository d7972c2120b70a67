"""Helpers shared by the Python benchmark drivers (bench/*/ *_bench.py)."""

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORGANISATION_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def make_uscc(region, serial):
    """A valid GB 32100 code: "91", the 6-digit region, a GB 11714 organisation code built from
    `serial` (8 digits and its check character), and the USCC check character."""
    org8 = "%08d" % serial
    s = sum(int(c) * w for c, w in zip(org8, ORGANISATION_WEIGHTS))
    org_check = {10: "X", 11: "0"}.get(11 - s % 11, str(11 - s % 11))
    first17 = "91" + region + org8 + org_check
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def percentile(values, p):
    """The p-th percentile (0-100) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]
