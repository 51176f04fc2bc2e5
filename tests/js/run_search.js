// Runs the browser side of the registry search (lunr.js + cjk.js + search-core.js) under
// Node for tests/test_search_index.py.
//
//   node run_search.js expand INDEX.json            lunr's serialised index rebuilt from the
//                                                   compact index in a site's index file
//   node run_search.js search INDEX.json CASES.json  each case {q, filters} -> keys in result
//                                                   order, facet counts, scores
//   node run_search.js highlight CASES.json          each case {text, terms, substrings} ->
//                                                   highlight pieces
//   node run_search.js normalise QUERIES.json        normaliseQuery of each string
//   node run_search.js slices INDEX.json QUERIES.json
//                                                   loadInSlices and load agree on each query
//   node run_search.js state QUERIES.json            parseState / formatState round trip
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

function main (command, args) {
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
  } else if (command === 'normalise') {
    out = readJSON(args[0]).map(S.normaliseQuery)
  } else if (command === 'slices') {
    // loadInSlices gives the same engine as load: compare a few searches
    const data = readJSON(args[0])
    const again = readJSON(args[0])
    const queries = readJSON(args[1])
    S.loadInSlices(data, 1).then(function (engine) {
      const sync = S.load(again)
      const same = queries.map(function (q) {
        const a = S.search(engine, q).hits.map(function (h) { return [h.ref, h.score] })
        const b = S.search(sync, q).hits.map(function (h) { return [h.ref, h.score] })
        return JSON.stringify(a) === JSON.stringify(b) && a.length > 0
      })
      process.stdout.write(JSON.stringify({ same: same, indexDropped: !('index' in data) }))
    })
    return
  } else if (command === 'state') {
    out = readJSON(args[0]).map(function (q) {
      const state = S.parseState(q)
      return { state: state, again: S.formatState(state) }
    })
  } else {
    throw new Error('unknown command ' + command)
  }
  process.stdout.write(JSON.stringify(out))
}

main(process.argv[2], process.argv.slice(3))
