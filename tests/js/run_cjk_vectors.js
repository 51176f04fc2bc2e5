// Runs the browser side of the CJK search (vendored lunr.js + cjk.js) under Node for
// tests/test_cjk.py, which compares what this prints with the Python side.
//
//   node run_cjk_vectors.js vectors VECTORS.json   split/query vectors, idempotence, metadata
//   node run_cjk_vectors.js split STRINGS.json      splitToken of each string
//   node run_cjk_vectors.js search INDEX.json QUERIES.json
//                                                   lunr.Index.load, then tokenizeQuery +
//                                                   buildQuery for each query string
// Output: one JSON document on stdout.
'use strict'

const fs = require('fs')
const path = require('path')

const root = path.resolve(__dirname, '..', '..')
const staticDir = path.join(root, 'themes', 'default', 'static')
globalThis.lunr = require(path.join(staticDir, 'vendor', 'lunr', 'lunr.js'))
const cjk = require(path.join(staticDir, 'js', 'cjk.js'))
const lunr = globalThis.lunr

function readJSON (file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

function strings (tokens) {
  return tokens.map(function (t) { return t.toString() })
}

function vectors (file) {
  const data = readJSON(file)
  const metadata = { position: [3, 4], index: 1 }
  return {
    split: data.split.map(function (v) { return cjk.splitText(v.in) }),
    query: data.query.map(function (v) { return cjk.tokenizeQuery(v.in) }),
    // cjkSplit run on its own output, one token at a time.
    idempotent: data.split.map(function (v) {
      return v.out.map(function (t) { return strings(cjk.cjkSplit(new lunr.Token(t, {}))) })
    }),
    // Through a real lunr.Pipeline, the way lunr.Index runs it.
    pipeline: data.split.map(function (v) {
      const p = lunr.Pipeline.load(['cjkSplit'])
      return strings(p.run(lunr.tokenizer(v.in)))
    }),
    metadata: cjk.cjkSplit(new lunr.Token('AI特效', metadata)).map(function (t) {
      return [t.toString(), t.metadata]
    })
  }
}

function search (indexFile, queriesFile) {
  const index = lunr.Index.load(readJSON(indexFile))
  return readJSON(queriesFile).map(function (q) {
    const clauses = cjk.tokenizeQuery(q)
    const results = cjk.buildQuery(index, clauses)
    return {
      query: q,
      clauses: clauses,
      results: results.map(function (r) { return [r.ref, r.score] })
    }
  })
}

const mode = process.argv[2]
let out
if (mode === 'vectors') {
  out = vectors(process.argv[3])
} else if (mode === 'split') {
  out = readJSON(process.argv[3]).map(cjk.splitToken)
} else if (mode === 'search') {
  out = search(process.argv[3], process.argv[4])
} else {
  process.stderr.write('usage: run_cjk_vectors.js vectors|split|search FILE...\n')
  process.exit(2)
}
process.stdout.write(JSON.stringify(out))
