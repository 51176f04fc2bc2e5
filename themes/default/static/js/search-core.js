/*
 * Registry search without the page: load the compact index that sitegen/search.py writes,
 * run a query, count facets, find what to highlight. search.js puts it on the page; the tests
 * run this file under Node as well.
 *
 * The index file holds lunr.py's index in a compact form (see sitegen/search.py): terms in
 * lunr.js order, and for each term the documents it occurs in per field, as gaps. expand()
 * rebuilds lunr's serialised index from it, computing each posting's weight with the formula
 * lunr's builder uses (BM25, k1 and b from the file, field boost, three decimals), then
 * lunr.Index.load() takes it. Queries go through SitegenCJK (cjk.js): every term required,
 * Chinese words as all of their bigrams, filing-number digits as substrings.
 *
 * Plain script (no modules): load after lunr.js and cjk.js. Exposes globalThis.SitegenSearch,
 * and module.exports under Node.
 */
;(function (root) {
  'use strict'

  var lunr = root.lunr
  var CJK = root.SitegenCJK
  if (!lunr || !CJK) throw new Error('search-core.js: load lunr.js and cjk.js first')

  var FORMAT = 1
  var FACETS = ['category', 'provider', 'status', 'role', 'opinion']
  // Positions in a document-store row (sitegen/search.py document_store).
  var TITLE = 0; var PROVIDER = 1; var CATEGORY = 2; var STATUS = 3; var NUMBER = 4
  var ROLE = 5; var OPINION = 6; var KEY = 7; var SNIPPET = 8
  var INACTIVE = { withdrawn: true, deleted: true }
  var NO_METADATA = Object.freeze({}) // no metadata is indexed: every posting can share it
  var WORD_CHAR = /^[\p{L}\p{N}_]$/u
  var MARK_CHAR = /^\p{M}$/u
  var DIGITS = /^[0-9]{4,}$/

  /** lunr's serialised index (the shape lunr.Index.load takes) from the compact form. */
  function expand (compact) {
    var fields = compact.fields
    var count = compact.count
    var k1 = compact.k1
    var b = compact.b
    var terms = compact.terms
    var postings = compact.postings
    var average = compact.lengths.map(function (lengths) {
      var sum = 0
      for (var i = 0; i < lengths.length; i++) sum += lengths[i]
      return count ? sum / count : 0
    })
    var vectors = fields.map(function () { return new Array(count) })
    var inverted = new Array(terms.length)
    for (var t = 0; t < terms.length; t++) {
      var p = postings[t]
      var posting = { _index: t }
      var f, n, j, k
      for (f = 0; f < fields.length; f++) posting[fields[f]] = {}
      // Documents containing the term, over all fields (lunr.idf counts a document per field).
      var df = 0
      for (j = 0; j < p.length;) {
        n = p[j + 1]
        df += n
        j += 2
        for (k = 0; k < n; k++) j += p[j] < 0 ? 2 : 1
      }
      var idf = Math.log(1 + Math.abs((count - df + 0.5) / (df + 0.5)))
      for (j = 0; j < p.length;) {
        f = p[j]
        n = p[j + 1]
        j += 2
        var field = posting[fields[f]]
        var lengths = compact.lengths[f]
        var boost = compact.boosts[f]
        var doc = -1
        for (k = 0; k < n; k++) {
          var gap = p[j++]
          var tf = 1
          if (gap < 0) {
            gap = -gap - 1
            tf = p[j++]
          }
          doc += gap + 1
          field[doc] = NO_METADATA
          var score = idf * ((k1 + 1) * tf) /
            (k1 * (1 - b + b * (lengths[doc] / average[f])) + tf)
          score *= boost
          var vector = vectors[f][doc] || (vectors[f][doc] = [])
          vector.push(t, Math.round(score * 1000) / 1000)
        }
      }
      inverted[t] = [terms[t], posting]
    }
    var fieldVectors = []
    for (var g = 0; g < fields.length; g++) {
      for (var d = 0; d < count; d++) {
        fieldVectors.push([fields[g] + '/' + d, vectors[g][d] || []])
      }
    }
    return {
      version: compact.lunr,
      fields: fields,
      fieldVectors: fieldVectors,
      invertedIndex: inverted,
      pipeline: compact.pipeline
    }
  }

  /** An engine over one language's index file (the parsed JSON). */
  function load (data) {
    if (!data || data.v !== FORMAT) throw new Error('search index: unknown format')
    return {
      data: data,
      index: lunr.Index.load(expand(data.index)),
      docs: data.docs
    }
  }

  function facetValue (engine, doc, facet) {
    var data = engine.data
    switch (facet) {
      case 'category': return data.categories[doc[CATEGORY]]
      case 'provider': return data.providers[doc[PROVIDER]][0]
      case 'status': return data.statuses[doc[STATUS]]
      case 'role': return data.roles[doc[ROLE]]
      case 'opinion': return doc[OPINION] ? 'yes' : 'no'
    }
    return ''
  }

  function isInactive (engine, doc) {
    return INACTIVE[engine.data.statuses[doc[STATUS]]] === true
  }

  function emptyFilters () {
    var filters = {}
    FACETS.forEach(function (facet) { filters[facet] = [] })
    return filters
  }

  function matches (engine, doc, filters, skip) {
    for (var i = 0; i < FACETS.length; i++) {
      var facet = FACETS[i]
      var wanted = filters[facet]
      if (facet === skip || !wanted || !wanted.length) continue
      if (wanted.indexOf(facetValue(engine, doc, facet)) < 0) return false
    }
    return true
  }

  function hasFilters (filters) {
    return FACETS.some(function (facet) { return filters[facet] && filters[facet].length > 0 })
  }

  /**
   * Search: { q, filters } -> { hits, facets, terms, substrings, total }.
   * hits: [{ ref, doc, score, inactive, terms }], current disclosures first, then by score.
   * facets: { facet: { value: count } } counted over the query's hits with every other
   * facet's filter applied, so each count says how many results ticking that value gives.
   * An empty query with filters lists every disclosure that passes them; an empty query
   * without filters, or one made only of stop words or punctuation, finds nothing.
   */
  function search (engine, q, filters) {
    filters = filters || emptyFilters()
    var text = (q || '').trim()
    var clauses = text ? CJK.tokenizeQuery(text) : []
    var found
    if (clauses.length) {
      found = CJK.buildQuery(engine.index, clauses).map(function (r) {
        return { ref: +r.ref, score: r.score, terms: Object.keys(r.matchData.metadata) }
      })
    } else if (!text && hasFilters(filters)) {
      found = engine.docs.map(function (doc, i) { return { ref: i, score: 0, terms: [] } })
    } else {
      found = []
    }
    found.forEach(function (hit) {
      hit.doc = engine.docs[hit.ref]
      hit.inactive = isInactive(engine, hit.doc)
    })
    found.sort(function (a, b) {
      return (a.inactive - b.inactive) || (b.score - a.score) || (a.ref - b.ref)
    })
    var facets = {}
    FACETS.forEach(function (facet) {
      var counts = {}
      found.forEach(function (hit) {
        if (!matches(engine, hit.doc, filters, facet)) return
        var value = facetValue(engine, hit.doc, facet)
        counts[value] = (counts[value] || 0) + 1
      })
      facets[facet] = counts
    })
    var hits = found.filter(function (hit) { return matches(engine, hit.doc, filters, null) })
    var terms = {}
    hits.forEach(function (hit) { hit.terms.forEach(function (t) { terms[t] = true }) })
    return {
      hits: hits,
      total: hits.length,
      facets: facets,
      terms: terms,
      substrings: clauses.filter(function (c) { return c.wildcard === 'both' })
        .map(function (c) { return c.term }),
      searched: clauses.length > 0 || (!text && hasFilters(filters))
    }
  }

  function stem (word) {
    return lunr.stemmer(new lunr.Token(word, {})).toString()
  }

  function normal (text) {
    return text.normalize('NFKC').toLowerCase()
  }

  /**
   * Split text into [{ text, mark }] pieces, marking what the matched index terms cover:
   * a word whose stem is a matched term, or the part of a word equal to a digit substring
   * the reader typed (the tail of a filing number); in Chinese text, each character pair
   * that is a matched bigram, and a lone character that is a matched term.
   */
  function highlight (text, terms, substrings) {
    var chars = Array.from(text || '')
    var marked = new Array(chars.length)
    var i = 0
    substrings = substrings || []
    while (i < chars.length) {
      var ch = chars[i]
      var start = i
      if (CJK.isCJK(ch)) {
        while (i < chars.length && CJK.isCJK(chars[i])) i++
        if (i - start === 1) {
          if (terms[normal(ch)]) marked[start] = true
        } else {
          for (var j = start; j + 1 < i; j++) {
            if (terms[normal(chars[j] + chars[j + 1])]) marked[j] = marked[j + 1] = true
          }
        }
      } else if (WORD_CHAR.test(ch)) {
        i++
        while (i < chars.length && !CJK.isCJK(chars[i]) &&
          (WORD_CHAR.test(chars[i]) || MARK_CHAR.test(chars[i]))) i++
        var word = normal(chars.slice(start, i).join(''))
        var inside = false
        substrings.forEach(function (digits) {
          var at = word.indexOf(digits)
          if (at < 0 || word.length !== i - start) return
          inside = true
          for (var k = at; k < at + digits.length; k++) marked[start + k] = true
        })
        if (!inside && (terms[word] || terms[stem(word)])) {
          for (var m = start; m < i; m++) marked[m] = true
        }
      } else {
        i++
      }
    }
    var pieces = []
    for (var n = 0; n < chars.length; n++) {
      var mark = marked[n] === true
      var last = pieces[pieces.length - 1]
      if (last && last.mark === mark) last.text += chars[n]
      else pieces.push({ text: chars[n], mark: mark })
    }
    return pieces
  }

  /** { q, filters } from a query string such as location.search. */
  function parseState (queryString) {
    var params = new URLSearchParams(queryString || '')
    var filters = emptyFilters()
    FACETS.forEach(function (facet) {
      params.getAll(facet).forEach(function (value) {
        if (value && filters[facet].indexOf(value) < 0) filters[facet].push(value)
      })
    })
    return { q: params.get('q') || '', filters: filters }
  }

  /** The query string ("?q=…&category=…", or "" when empty) for a state. */
  function formatState (state) {
    var params = new URLSearchParams()
    if (state.q) params.append('q', state.q)
    FACETS.forEach(function (facet) {
      (state.filters[facet] || []).forEach(function (value) { params.append(facet, value) })
    })
    var text = params.toString()
    return text ? '?' + text : ''
  }

  /** What a result shows, by name (the store keeps rows as arrays). */
  function describe (engine, doc) {
    var data = engine.data
    return {
      title: doc[TITLE],
      provider: data.providers[doc[PROVIDER]][1],
      category: data.labels.category[doc[CATEGORY]],
      status: data.statuses[doc[STATUS]],
      statusLabel: data.labels.status[doc[STATUS]],
      number: doc[NUMBER],
      role: data.labels.role[doc[ROLE]],
      opinion: doc[OPINION] === 1,
      url: data.base + doc[KEY] + '/index.html',
      key: doc[KEY],
      snippet: doc[SNIPPET]
    }
  }

  /** Every value of a facet with its label, in the order the page lists them. */
  function facetValues (engine, facet) {
    var data = engine.data
    switch (facet) {
      case 'category': return data.categories.map(function (v, i) { return [v, data.labels.category[i]] })
      case 'provider': return data.providers.map(function (p) { return [p[0], p[1]] })
      case 'status': return data.statuses.map(function (v, i) { return [v, data.labels.status[i]] })
      case 'role': return data.roles.map(function (v, i) { return [v, data.labels.role[i]] })
      case 'opinion': return [['yes', data.labels.opinion[1]], ['no', data.labels.opinion[0]]]
    }
    return []
  }

  var api = {
    FACETS: FACETS,
    DIGITS: DIGITS,
    expand: expand,
    load: load,
    search: search,
    highlight: highlight,
    parseState: parseState,
    formatState: formatState,
    describe: describe,
    facetValues: facetValues,
    emptyFilters: emptyFilters
  }
  root.SitegenSearch = api
  if (typeof module === 'object' && module.exports) module.exports = api
})(typeof globalThis !== 'undefined' ? globalThis : window)
