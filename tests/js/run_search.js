// Runs the browser side of the registry search (lunr.js + cjk.js + search-core.js) under
// Node for tests/test_search_index.py.
//
//   node run_search.js expand INDEX.json            lunr's serialised index rebuilt from the
//                                                   compact index in a site's index file
//   node run_search.js search INDEX.json CASES.json  each case {q, filters} -> keys in result
//                                                   order, facet counts, scores
//   node run_search.js highlight CASES.json          each case {text, terms, substrings} ->
//                                                   highlight pieces
// Output: one JSON document on stdout.
'use strict'

const fs = require('fs')
const path = require('path')

const root = path.resolve(__dirname, '..', '..')
const staticDir = path.join(root, 'themes', 'default', 'static')
globalThis.lunr = require(path.join(staticDir, 'vendor', 'lunr', 'lunr.js'))
require(path.join(staticDir, 'js', 'cjk.js'))
const S = require(path.join(staticDir, 'js', 'search-core.js'))

function readJSON (file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

function search (indexFile, casesFile) {
  const started = process.hrtime.bigint()
  const engine = S.load(readJSON(indexFile))
  const loadMs = Number(process.hrtime.bigint() - started) / 1e6
  const results = readJSON(casesFile).map(function (c) {
    const filters = Object.assign(S.emptyFilters(), c.filters || {})
    const r = S.search(engine, c.q, filters)
    return {
      q: c.q,
      keys: r.hits.map(function (h) { return S.describe(engine, h.doc).key }),
      scores: r.hits.map(function (h) { return h.score }),
      inactive: r.hits.map(function (h) { return h.inactive }),
      total: r.total,
      facets: r.facets,
      searched: r.searched,
      terms: Object.keys(r.terms).sort(),
      substrings: r.substrings
    }
  })
  return { loadMs: loadMs, results: results }
}

const [command, ...args] = process.argv.slice(2)
let out
if (command === 'expand') {
  out = S.expand(readJSON(args[0]).index)
} else if (command === 'search') {
  out = search(args[0], args[1])
} else if (command === 'highlight') {
  out = readJSON(args[0]).map(function (c) {
    const terms = {}
    c.terms.forEach(function (t) { terms[t] = true })
    return S.highlight(c.text, terms, c.substrings || [])
  })
} else if (command === 'state') {
  out = readJSON(args[0]).map(function (q) {
    const state = S.parseState(q)
    return { state: state, again: S.formatState(state) }
  })
} else {
  throw new Error('unknown command ' + command)
}
process.stdout.write(JSON.stringify(out))
