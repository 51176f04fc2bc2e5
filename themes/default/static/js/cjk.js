/*
 * Chinese-searchable lunr, browser side: the twin of sitegen/cjk.py.
 *
 * The search index is built by lunr.py with the pipeline function "cjkSplit" and queried here
 * by lunr.js 2.3.9, so this file registers a function of the same name and behaviour before
 * lunr.Index.load runs (load throws on unknown names). tests/data/cjk_vectors.json holds the
 * vectors both implementations must satisfy; change the two files together.
 *
 * cjkSplit: NFKC + lowercase one token, split it into maximal runs of CJK characters and of
 * word characters (Unicode letters, digits, "_"; a combining mark continues a word run but never
 * starts one), drop the rest, keep word runs whole, turn CJK runs into overlapping bigrams.
 * Strings are walked by code point, so astral ideographs such as 𠮷 stay whole.
 *
 * tokenizeQuery: lunr ORs terms, so every term is a REQUIRED clause (all bigrams of a Chinese
 * word must match); a lone CJK character is a trailing-wildcard prefix term; a term of four or
 * more ascii digits is REQUIRED as a substring (*digits*, which also matches the exact term) so
 * "0011" finds a filing number ending in 0011, plus an OPTIONAL exact clause that ranks exact
 * matches higher; English stop words are dropped because they are never indexed.
 *
 * Plain script (no modules): load after lunr.js. Uses Unicode property escapes (ES2018 regex),
 * otherwise ES2017. Exposes globalThis.SitegenCJK, and module.exports under Node.
 */
;(function (root) {
  'use strict'

  var lunr = root.lunr
  if (!lunr) {
    throw new Error('cjk.js: load lunr.js before cjk.js')
  }

  // Inclusive code point ranges treated as CJK; sitegen/cjk.py carries the identical table.
  var CJK_RANGES = [
    [0x3005, 0x3007], // 々 〆 〇
    [0x3041, 0x3096], // Hiragana letters
    [0x309D, 0x309F], // ゝ ゞ ゟ
    [0x30A1, 0x30FA], // Katakana letters (゠ U+30A0 and ・ U+30FB are punctuation)
    [0x30FC, 0x30FF], // ー ヽ ヾ ヿ
    [0x3400, 0x4DBF], // Extension A
    [0x4E00, 0x9FFF], // CJK Unified Ideographs
    [0xAC00, 0xD7AF], // Hangul syllables
    [0xF900, 0xFAFF], // Compatibility Ideographs
    [0x20000, 0x2FA1F], // Extensions B-F, Compatibility Supplement
    [0x30000, 0x323AF] // Extensions G, H
  ]
  var WORD_CHAR = /^[\p{L}\p{N}_]$/u
  var MARK_CHAR = /^\p{M}$/u
  var DIGITS_SUBSTRING = /^[0-9]{4,}$/
  var PRESENCE = {
    required: lunr.Query.presence.REQUIRED,
    optional: lunr.Query.presence.OPTIONAL
  }
  var WILDCARD = {
    none: lunr.Query.wildcard.NONE,
    trailing: lunr.Query.wildcard.TRAILING,
    both: lunr.Query.wildcard.LEADING | lunr.Query.wildcard.TRAILING
  }

  function isCJK (ch) {
    var cp = ch.codePointAt(0)
    for (var i = 0; i < CJK_RANGES.length; i++) {
      if (cp >= CJK_RANGES[i][0] && cp <= CJK_RANGES[i][1]) return true
    }
    return false
  }

  function flush (kind, run, out) {
    if (kind === 'word') {
      out.push(run.join(''))
    } else if (kind === 'cjk') {
      if (run.length === 1) {
        out.push(run[0])
      } else {
        for (var i = 0; i + 1 < run.length; i++) out.push(run[i] + run[i + 1])
      }
    }
  }

  /** The string behaviour of cjkSplit. */
  function splitToken (text) {
    var out = []
    var run = []
    var kind = 'sep'
    for (const ch of String(text).normalize('NFKC').toLowerCase()) {
      var next
      if (isCJK(ch)) {
        next = 'cjk'
      } else if (WORD_CHAR.test(ch) || (kind === 'word' && MARK_CHAR.test(ch))) {
        next = 'word'
      } else {
        next = 'sep'
      }
      if (next !== kind) {
        flush(kind, run, out)
        run = []
        kind = next
      }
      run.push(ch)
    }
    flush(kind, run, out)
    return out
  }

  /** lunr pipeline function: one token in, its split tokens out, each keeping the metadata. */
  function cjkSplit (token) {
    return splitToken(token.toString()).map(function (part) {
      return token.clone(function () { return part })
    })
  }

  lunr.Pipeline.registerFunction(cjkSplit, 'cjkSplit')

  /** Terms cjkSplit makes of a whole text after lunr's own tokenizer (before stemming). */
  function splitText (text) {
    var out = []
    lunr.tokenizer(text).forEach(function (token) {
      Array.prototype.push.apply(out, splitToken(token.toString()))
    })
    return out
  }

  function clause (term, presence, wildcard, usePipeline) {
    return { term: term, presence: presence, wildcard: wildcard, use_pipeline: usePipeline }
  }

  /** Clauses for a search box string; an empty list means nothing can match. */
  function tokenizeQuery (queryString) {
    var clauses = []
    splitText(queryString).forEach(function (term) {
      if (lunr.stopWordFilter(new lunr.Token(term, {})) === undefined) return
      if (Array.from(term).length === 1 && isCJK(term)) {
        clauses.push(clause(term, 'required', 'trailing', false))
      } else if (DIGITS_SUBSTRING.test(term)) {
        clauses.push(clause(term, 'required', 'both', false))
        clauses.push(clause(term, 'optional', 'none', true))
      } else {
        clauses.push(clause(term, 'required', 'none', true))
      }
    })
    var seen = Object.create(null)
    return clauses.filter(function (c) {
      var key = JSON.stringify([c.term, c.presence, c.wildcard, c.use_pipeline])
      if (seen[key]) return false
      seen[key] = true
      return true
    })
  }

  /** Run clauses from tokenizeQuery against a lunr.Index; optional fields limit the search. */
  function buildQuery (index, clauses, fields) {
    // lunr.js treats a query without clauses as negated, i.e. "every document".
    if (!clauses.length) return []
    return index.query(function (q) {
      clauses.forEach(function (c) {
        var options = {
          presence: PRESENCE[c.presence],
          wildcard: WILDCARD[c.wildcard],
          usePipeline: c.use_pipeline
        }
        if (fields) options.fields = fields
        q.term(c.term, options)
      })
    })
  }

  var api = {
    cjkSplit: cjkSplit,
    splitToken: splitToken,
    splitText: splitText,
    tokenizeQuery: tokenizeQuery,
    buildQuery: buildQuery,
    isCJK: isCJK
  }
  root.SitegenCJK = api
  if (typeof module === 'object' && module.exports) module.exports = api
})(typeof globalThis !== 'undefined' ? globalThis : window)
