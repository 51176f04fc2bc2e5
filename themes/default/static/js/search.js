/*
 * The search page: reads ?q= and the facet parameters, fetches this language's index the
 * first time it is needed (the URL asks for a search, or the reader focuses or types in the
 * box), and shows results and facet counts. Typing and ticking facets update the URL
 * (history.replaceState), so every search can be linked and bookmarked.
 *
 * The page works without this script: the form is a plain GET form and the page lists every
 * disclosure by category and provider. Results are built with createElement and textContent
 * only; disclosure text never reaches innerHTML.
 */
;(function () {
  'use strict'

  var root = document.getElementById('search')
  var S = window.SitegenSearch
  if (!root || !S) return

  var PAGE = 50 // results rendered at a time
  var PROVIDERS_SHOWN = 10 // provider facet values shown before "show all"
  var DEBOUNCE = 120

  var form = document.getElementById('search-form')
  var input = document.getElementById('search-q')
  var status = document.getElementById('search-status')
  var list = document.getElementById('search-results')
  var more = document.getElementById('search-more')
  var facetsBox = root.querySelector('.facets')
  var clear = document.getElementById('search-clear')
  var text = root.dataset

  var state = S.parseState(window.location.search)
  var engine = null
  var loading = null
  var shown = 0
  var lastResult = null
  var allProviders = false
  var timer = 0

  root.classList.remove('no-js')
  root.classList.add('js')
  input.value = state.q

  function say (message) {
    // Replacing the text lets screen readers announce the same count again after a change.
    status.textContent = message
  }

  function format (template, n) {
    return template.replace('{n}', String(n))
  }

  function ensureLoaded () {
    if (loading) return loading
    say(text.textLoading)
    root.setAttribute('aria-busy', 'true')
    loading = window.fetch(root.dataset.index, { credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status)
        return response.json()
      })
      .then(function (data) { return S.loadInSlices(data, 40) })
      .then(function (loaded) {
        engine = loaded
        root.removeAttribute('aria-busy')
        facetsBox.hidden = false
        run()
      })
      .catch(function (error) {
        root.removeAttribute('aria-busy')
        say(window.location.protocol === 'file:' ? text.textErrorFile : text.textError)
        root.classList.add('search-failed')
        if (window.console && console.warn) console.warn('search index:', error)
      })
    return loading
  }

  function wantsSearch () {
    if (state.q.trim()) return true
    return S.FACETS.some(function (facet) { return state.filters[facet].length > 0 })
  }

  function updateUrl () {
    var query = S.formatState(state)
    var url = window.location.pathname + query + window.location.hash
    if (url !== window.location.pathname + window.location.search + window.location.hash) {
      window.history.replaceState(null, '', url)
    }
    carryQuery(query)
  }

  // The language switch leads to the same search in the other language.
  function carryQuery (query) {
    var links = document.querySelectorAll('.languages a[hreflang]')
    Array.prototype.forEach.call(links, function (link) {
      if (link.dataset.base === undefined) link.dataset.base = link.getAttribute('href')
      link.setAttribute('href', link.dataset.base + query)
    })
  }

  function run () {
    if (!engine) return
    lastResult = S.search(engine, state.q, state.filters)
    shown = 0
    list.textContent = ''
    renderMore()
    renderFacets()
    if (!lastResult.searched) {
      say('')
    } else if (lastResult.total === 0) {
      say(text.textNone)
    } else {
      say(format(text.textCount, lastResult.total))
    }
  }

  function append (parent, tag, className, content) {
    var el = document.createElement(tag)
    if (className) el.className = className
    if (content !== undefined) el.textContent = content
    parent.appendChild(el)
    return el
  }

  function marked (parent, value) {
    S.highlight(value, lastResult.terms, lastResult.substrings).forEach(function (piece) {
      if (piece.mark) append(parent, 'mark', '', piece.text)
      else parent.appendChild(document.createTextNode(piece.text))
    })
  }

  function renderHit (hit) {
    var d = S.describe(engine, hit.doc)
    var item = append(list, 'li', 'result' + (hit.inactive ? ' inactive' : ''))
    var heading = append(item, 'h3', 'result-title')
    var link = append(heading, 'a')
    link.href = d.url
    marked(link, d.title)
    var meta = append(item, 'p', 'meta')
    append(meta, 'span', 'result-provider', d.provider)
    meta.appendChild(document.createTextNode(' · '))
    append(meta, 'span', 'result-category', d.category)
    meta.appendChild(document.createTextNode(' · '))
    append(meta, 'span', 'badge status-' + d.status, d.statusLabel)
    if (d.number) {
      meta.appendChild(document.createTextNode(' '))
      marked(append(meta, 'span', 'filing-number'), d.number)
    }
    if (d.snippet) marked(append(item, 'p', 'snippet'), d.snippet)
  }

  function renderMore () {
    var hits = lastResult.hits
    var end = Math.min(hits.length, shown + PAGE)
    for (var i = shown; i < end; i++) renderHit(hits[i])
    shown = end
    more.hidden = shown >= hits.length
  }

  function renderFacets () {
    var any = false
    S.FACETS.forEach(function (facet) {
      var box = root.querySelector('.facet[data-facet="' + facet + '"]')
      var options = box.querySelector('.facet-options')
      var counts = lastResult.facets[facet]
      var selected = state.filters[facet]
      if (selected.length) any = true
      var values = S.facetValues(engine, facet).filter(function (pair) {
        return counts[pair[0]] || selected.indexOf(pair[0]) >= 0
      })
      if (facet === 'provider') {
        values.sort(function (a, b) { return (counts[b[0]] || 0) - (counts[a[0]] || 0) })
      }
      var hidden = 0
      if (facet === 'provider' && !allProviders && values.length > PROVIDERS_SHOWN + 2) {
        var head = values.slice(0, PROVIDERS_SHOWN)
        var rest = values.slice(PROVIDERS_SHOWN).filter(function (pair) {
          return selected.indexOf(pair[0]) >= 0
        })
        hidden = values.length - head.length - rest.length
        values = head.concat(rest)
      }
      // Keep focus on the checkbox the reader just used when the list is rebuilt.
      var focused = document.activeElement
      var focusKey = focused && focused.dataset && focused.dataset.facet === facet
        ? focused.value : null
      options.textContent = ''
      box.hidden = values.length === 0
      values.forEach(function (pair, i) {
        var li = append(options, 'li')
        var id = 'facet-' + facet + '-' + i
        var check = append(li, 'input')
        check.type = 'checkbox'
        check.id = id
        check.value = pair[0]
        check.dataset.facet = facet
        check.checked = selected.indexOf(pair[0]) >= 0
        var label = append(li, 'label')
        label.htmlFor = id
        var name = facet === 'opinion' ? text.textOpinion + ': ' + pair[1] : pair[1]
        append(label, 'span', 'facet-label', name)
        label.appendChild(document.createTextNode(' '))
        append(label, 'span', 'facet-count', '(' + (counts[pair[0]] || 0) + ')')
        if (focusKey === pair[0]) check.focus()
      })
      if (facet === 'provider' && (hidden || allProviders) && values.length > PROVIDERS_SHOWN) {
        var toggle = append(append(options, 'li'), 'button', 'link-button',
          allProviders ? text.textShowFewer : format(text.textShowAll, values.length + hidden))
        toggle.type = 'button'
        toggle.setAttribute('aria-expanded', allProviders ? 'true' : 'false')
        toggle.addEventListener('click', function () {
          allProviders = !allProviders
          renderFacets()
          var again = box.querySelector('.link-button')
          if (again) again.focus()
        })
      }
    })
    clear.hidden = !any
  }

  function schedule () {
    window.clearTimeout(timer)
    timer = window.setTimeout(function () {
      updateUrl()
      if (engine) run()
      else ensureLoaded()
    }, DEBOUNCE)
  }

  input.addEventListener('focus', function () { ensureLoaded() })
  input.addEventListener('input', function () {
    state.q = input.value
    schedule()
  })
  form.addEventListener('submit', function (event) {
    event.preventDefault()
    window.clearTimeout(timer)
    state.q = input.value
    updateUrl()
    if (engine) run()
    else ensureLoaded()
  })
  facetsBox.addEventListener('change', function (event) {
    var check = event.target
    if (!check || check.type !== 'checkbox') return
    var values = state.filters[check.dataset.facet]
    var at = values.indexOf(check.value)
    if (check.checked && at < 0) values.push(check.value)
    if (!check.checked && at >= 0) values.splice(at, 1)
    updateUrl()
    run()
  })
  clear.addEventListener('click', function () {
    state.filters = S.emptyFilters()
    updateUrl()
    run()
    input.focus()
  })
  more.addEventListener('click', function () {
    var first = shown
    renderMore()
    var next = list.children[first]
    var link = next && next.querySelector('a')
    if (link) link.focus()
  })
  window.addEventListener('popstate', function () {
    state = S.parseState(window.location.search)
    input.value = state.q
    carryQuery(S.formatState(state))
    if (engine) run()
  })

  carryQuery(S.formatState(state))
  if (wantsSearch()) ensureLoaded()
})()
