"""The secret detector on a small labelled corpus: every provider's key found and classified, look-alikes
left alone, and no key ever shown or returned whole."""

from __future__ import annotations

import hashlib

import pytest

from audits.secrets.corpus import Keys, Sample, corpus, lookalikes, minified, secrets
from audits.secrets.detector import RULES, Kind, fingerprint, scan_text
from audits.secrets.providers import PROVIDERS

# Until the detector reads the catalog, the samples of providers it has hand-written rules for.
CORPUS = [s for s in corpus() if not s.provider or s.provider in PROVIDERS]


def _label(sample: Sample) -> str:
    return f"{sample.provider or 'lookalike'}:{sample.text[:30]}"


@pytest.mark.parametrize("sample", [s for s in CORPUS if s.kind == "secret"], ids=_label)
def test_it_finds_each_providers_secret_key(sample: Sample) -> None:
    hits = scan_text(sample.text)
    assert [(h.provider, h.kind) for h in hits] == [(sample.provider, Kind.SECRET)]
    if sample.key:
        assert hits[0].fingerprint == hashlib.sha256(sample.key.encode()).hexdigest()[:8]


@pytest.mark.parametrize("sample", [s for s in CORPUS if s.kind != "secret"], ids=_label)
def test_look_alikes_are_not_secrets_and_publishable_keys_are_info(sample: Sample) -> None:
    kinds = [(h.provider, h.kind) for h in scan_text(sample.text)]
    if sample.kind == "publishable":
        assert kinds == [(sample.provider, Kind.PUBLISHABLE)]
    else:
        assert kinds == []


def test_the_corpus_covers_at_least_twenty_providers_and_each_has_rotation_steps() -> None:
    providers = {s.provider for s in CORPUS if s.kind == "secret"}
    assert len(providers) >= 20
    for slug in providers | {r.provider for r in RULES if isinstance(r.provider, str)}:
        assert len(PROVIDERS[slug].rotation) > 60, slug


def test_a_hit_never_holds_the_key_whole() -> None:
    for sample in secrets(Keys(11)):
        for hit in scan_text(sample.text):
            shown = repr(hit) + hit.redacted
            assert not sample.key or sample.key not in shown
            assert hit.redacted.endswith(f"(sha256 {hit.fingerprint})")
            if sample.provider == "private_key":  # a private key shows only a BEGIN line
                assert hit.prefix == "-----BEGIN PRIVATE KEY-----"
            elif sample.key.startswith(hit.prefix):  # at most a third of a key (or its public prefix) is shown
                assert len(hit.prefix) <= max(13, len(sample.key) // 3)
            else:  # a database URL shows its scheme and user, never the password
                assert hit.prefix.endswith(":") and sample.key not in hit.prefix


def test_keys_are_found_in_a_minified_bundle_with_their_line() -> None:
    keys = Keys(3)
    planted = secrets(keys)
    bundle = minified(planted + lookalikes(keys), keys, size=200_000)
    found = {(h.provider, h.fingerprint) for h in scan_text(bundle) if h.kind == Kind.SECRET}
    expected = {(s.provider, fingerprint(s.key)) for s in planted if s.key}
    assert expected <= found
    assert len({p for p, _ in found}) >= 20


def test_test_keys_are_ignored_and_a_stripe_secret_is_a_blocker() -> None:
    live = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    assert [h.kind for h in scan_text(f'stripe("{live}")')] == [Kind.SECRET]
    assert scan_text(f'stripe("{live.replace("live", "test")}")') == []
    assert [h.kind for h in scan_text(f'stripe("{live.replace("sk_", "pk_")}")')] == [Kind.PUBLISHABLE]


def test_one_key_seen_twice_in_a_file_is_one_hit_on_its_first_line() -> None:
    key = "ghp_" + "R8kVw2Lq9Xz4Tn7Mb3Hc6Jd1Fs5Gy0Pa2Ei9"
    hits = scan_text(f"a\nTOKEN={key}\nagain={key}\n")
    assert [(h.provider, h.line) for h in hits] == [("github", 2)]


def test_binary_and_empty_input_find_nothing() -> None:
    from audits.secrets.detector import scan_bytes

    assert scan_bytes(b"\x00\x01sk_live_4eC39HqLyjWDarjtT1zdp7dc") == []
    assert scan_text("") == []
