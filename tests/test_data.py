"""The shipped data: it loads, it holds the contract's rules and protocols, and it cites seeds."""

from __future__ import annotations

from meso_cli.models import Dataset

SEEDS = {
    "000_83a82c1e611c96ee.txt",
    "001_8b0821896358e5d6.txt",
    "002_a3c4d37e6271a984.txt",
    "003_f613f02c0b107e94.txt",
    "004_c03713773c64c6fd.txt",
}


def test_every_rule_cites_a_seed(data: Dataset) -> None:
    for rule in data.rules:
        assert rule.sources, rule.id
        assert set(rule.sources) <= SEEDS, rule.id
        assert rule.rationale.strip(), rule.id


def test_every_protocol_and_phase_cites_a_seed(data: Dataset) -> None:
    for protocol in data.protocols:
        assert protocol.sources and set(protocol.sources) <= SEEDS, protocol.id
        for phase in protocol.phases:
            assert phase.sources and set(phase.sources) <= SEEDS, (protocol.id, phase.id)
        for item in [*protocol.precare, *protocol.aftercare]:
            assert set(item.sources) <= SEEDS, (protocol.id, item.id)


def test_every_term_cites_only_seeds(data: Dataset) -> None:
    for terms in data.terms.values():
        for term in terms:
            assert set(term.sources) <= SEEDS, term.id
