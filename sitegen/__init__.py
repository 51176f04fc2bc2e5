"""Algorithm transparency registry: YAML disclosures compiled into a static bilingual site."""

__version__ = "0.1.0"
