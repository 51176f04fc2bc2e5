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

  /**
   * Rebuilds lunr's serialised index from the compact form a slice of terms at a time:
   * step(deadline) works until performance-style time `deadline` (ms) and returns true when
   * done; result() is then the shape lunr.Index.load takes.
   */
  function Expander (compact) {
    var count = compact.count
    this.compact = compact
    this.t = 0
    this.average = compact.lengths.map(function (lengths) {
      var sum = 0
      for (var i = 0; i < lengths.length; i++) sum += lengths[i]
      return count ? sum / count : 0
    })
    this.vectors = compact.fields.map(function () { return new Array(count) })
    this.inverted = new Array(compact.terms.length)
  }

  Expander.prototype.step = function (deadline, now) {
    var compact = this.compact
    var fields = compact.fields
    var count = compact.count
    var k1 = compact.k1
    var b = compact.b
    var terms = compact.terms
    var postings = compact.postings
    var average = this.average
    var vectors = this.vectors
    for (var t = this.t; t < terms.length; t++) {
      if ((t & 255) === 0 && t > this.t && now && now() > deadline) {
        this.t = t
        return false
      }
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
      this.inverted[t] = [terms[t], posting]
    }
    this.t = terms.length
    return true
  }

  Expander.prototype.result = function () {
    var compact = this.compact
    var fieldVectors = []
    for (var f = 0; f < compact.fields.length; f++) {
      for (var d = 0; d < compact.count; d++) {
        fieldVectors.push([compact.fields[f] + '/' + d, this.vectors[f][d] || []])
      }
    }
    return {
      version: compact.lunr,
      fields: compact.fields,
      fieldVectors: fieldVectors,
      invertedIndex: this.inverted,
      pipeline: compact.pipeline
    }
  }

  /** lunr's serialised index (the shape lunr.Index.load takes) from the compact form. */
  function expand (compact) {
    var expander = new Expander(compact)
    expander.step(Infinity)
    return expander.result()
  }

  function engineFor (data, serialised) {
    var index = lunr.Index.load(serialised)
    delete data.index // the compact postings are no longer needed; let them be collected
    return { data: data, index: index, docs: data.docs }
  }

  function checkFormat (data) {
    if (!data || data.v !== FORMAT || !data.index) throw new Error('search index: unknown format')
  }

  /** An engine over one language's index file (the parsed JSON). */
  function load (data) {
    checkFormat(data)
    return engineFor(data, expand(data.index))
  }

  /**
   * The same, in slices of about `sliceMs` milliseconds with a pause between them, so that a
   * page stays responsive while a large index is prepared. Resolves to the engine. The last
   * two steps do what lunr.Index.load does (token set, field vectors), in slices too.
   */
  function loadInSlices (data, sliceMs) {
    return new Promise(function (resolve, reject) {
      checkFormat(data)
      var compact = data.index
      var clock = root.performance || Date
      var now = function () { return clock.now() }
      var expander = new Expander(compact)
      var tokenSet = new lunr.TokenSet.Builder()
      var invertedIndex = Object.create(null)
      var fieldVectors = Object.create(null)
      var term = 0
      var vector = 0
      var steps = [
        function (deadline) { return expander.step(deadline, now) },
        function (deadline) {
          var inverted = expander.inverted
          for (; term < inverted.length; term++) {
            if ((term & 1023) === 0 && now() > deadline) return false
            tokenSet.insert(inverted[term][0])
            invertedIndex[inverted[term][0]] = inverted[term][1]
          }
          tokenSet.finish()
          return true
        },
        function (deadline) {
          var fields = compact.fields
          var total = fields.length * compact.count
          for (; vector < total; vector++) {
            if ((vector & 1023) === 0 && now() > deadline) return false
            var f = Math.floor(vector / compact.count)
            var d = vector % compact.count
            fieldVectors[fields[f] + '/' + d] = new lunr.Vector(expander.vectors[f][d] || [])
          }
          return true
        }
      ]
      function work () {
        try {
          var deadline = now() + (sliceMs || 40)
          while (steps.length && steps[0](deadline)) steps.shift()
          if (steps.length) {
            setTimeout(work, 0)
            return
          }
          if (compact.lunr !== lunr.version) throw new Error('search index: built for lunr ' + compact.lunr)
          var index = new lunr.Index({
            invertedIndex: invertedIndex,
            fieldVectors: fieldVectors,
            tokenSet: tokenSet.root,
            fields: compact.fields,
            pipeline: lunr.Pipeline.load(compact.pipeline)
          })
          delete data.index
          resolve({ data: data, index: index, docs: data.docs })
        } catch (error) {
          reject(error)
        }
      }
      work()
    })
  }

  /**
   * A filing number is typed as printed, "网信算备110108526018150220299号", but only its digits
   * are indexed (every number shares the Chinese wrapper, which would make every disclosure a
   * candidate): in a word holding a run of four or more digits, the Chinese characters are
   * dropped.
   */
  function normaliseQuery (q) {
    return String(q || '').split(/(\s+)/).map(function (word) {
      if (!/[0-9]{4}/.test(word)) return word
      var chars = Array.from(word)
      var rest = chars.filter(function (ch) { return !/[0-9]/.test(ch) })
      if (!rest.length || !rest.every(function (ch) { return CJK.isCJK(ch) })) return word
      return chars.map(function (ch) { return CJK.isCJK(ch) ? ' ' : ch }).join('')
    }).join('')
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
    var clauses = text ? CJK.tokenizeQuery(normaliseQuery(text)) : []
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
      searched: text.length > 0 || hasFilters(filters)
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
    loadInSlices: loadInSlices,
    normaliseQuery: normaliseQuery,
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
