from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from django_singleconnect.validators import hostname_problem, validate_hostname

GOOD = [
    "sc.example.com",
    "sc.example.com:8443",
    "SC.Example.COM",
    "localhost",
    "sc-1.example.com",
    "a",
    "127.0.0.1",
    "127.0.0.1:1",
    "10.0.0.1:65535",
    "[::1]",
    "[::1]:8443",
    "[2001:db8::7]",
    "x" * 63 + ".example.com",
]

BAD = [
    ("https://sc.example.com", "scheme"),
    ("http://sc.example.com:8443/x", "scheme"),
    ("sc.example.com/twofactorauth-ui", "path"),
    ("sc.example.com?x=1", "path"),
    ("sc.example.com#top", "path"),
    ("sc.example.com:", "port"),
    ("sc.example.com:0", "port"),
    ("sc.example.com:65536", "port"),
    ("sc.example.com:http", "port"),
    ("sc.example.com:-1", "port"),
    ("sc.example.com: 443", "port"),
    ("sc.example.com:٤٤٣", "port"),  # Arabic-Indic digits: isdigit(), but no port
    ("[::1]:", "port"),
    ("[::1]:99999", "port"),
    ("sc.example.com:443:1", "invalid"),
    ("::1", "invalid"),
    ("[::1]x", "invalid"),
    ("[::1", "invalid"),
    ("[:::]", "invalid"),
    ("[1.2.3]", "invalid"),
    ("[fe80::1%eth0]", "invalid"),
    ("sc example.com", "invalid"),
    ("sc_example.com", "invalid"),
    ("user@sc.example.com", "invalid"),
    ("-sc.example.com", "invalid"),
    ("sc-.example.com", "invalid"),
    ("sc..example.com", "invalid"),
    (".sc.example.com", "invalid"),
    ("sc.example.com.", "invalid"),
    ("sc.example.com\n", "invalid"),
    ("sc.example.com\n:443", "invalid"),
    ("999.1.1.1", "invalid"),
    ("1.2.3", "invalid"),
    ("x" * 64 + ".example.com", "invalid"),
    (".".join(["abcdefghi"] * 26), "invalid"),  # 259 characters
    ("", "invalid"),
    ("ş.example.com", "invalid"),
]


@pytest.mark.parametrize("value", GOOD)
def test_good_hostnames(value: str) -> None:
    assert hostname_problem(value) is None
    validate_hostname(value)


@pytest.mark.parametrize(("value", "problem"), BAD)
def test_bad_hostnames(value: str, problem: str) -> None:
    assert hostname_problem(value) == problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://sc.example.com", "scheme"),
        ("sc.example.com/tfa", "path"),
        ("sc.example.com:0", "port"),
        ("sc example.com", "invalid"),
    ],
)
def test_validate_hostname_raises_with_a_code(value: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_hostname(value)
    assert caught.value.code == f"hostname_{problem}"
    assert caught.value.messages[0]
