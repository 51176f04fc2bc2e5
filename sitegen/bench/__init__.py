"""The registry at scale: a synthetic-registry generator and a build benchmark.

``python -m sitegen.bench`` writes N disclosures with V versions into a temporary git
repository, times validation, a full build and an incremental rebuild in fresh processes, and
builds the same pages with MkDocs and with Hugo plus Pagefind for comparison (see
docs/performance.md).  Nothing here is imported by a normal build.
"""
