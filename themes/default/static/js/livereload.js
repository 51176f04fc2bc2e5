// Live reload for `sitegen serve` only: the dev server adds this script to the pages it serves;
// a normal build neither copies nor references it.  It polls the server's version counter and
// reloads the page when a rebuild (successful or failed) has happened since the page was served.
(function () {
  "use strict";
  var script = document.currentScript;
  var match = script && /[?&]v=(\d+)/.exec(script.src);
  var seen = match ? match[1] : null;
  function poll() {
    fetch("/__sitegen__/version", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        var version = String(state.version);
        if (seen !== null && version !== seen) {
          window.location.reload();
          return;
        }
        seen = version;
        window.setTimeout(poll, 600);
      })
      .catch(function () {
        window.setTimeout(poll, 2000); // the server is restarting or stopped
      });
  }
  poll();
})();
