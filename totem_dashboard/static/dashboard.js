// Live updates without page reloads: refresh [data-refresh] parts, and follow a running build's log.
(function () {
  "use strict";

  function refresh(el) {
    var interval = parseInt(el.dataset.interval || "3000", 10);
    function tick() {
      if (document.hidden) { return setTimeout(tick, interval); }
      fetch(el.dataset.refresh, {headers: {"X-Fragment": "1"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null && html !== el.dataset.last) { el.innerHTML = html; el.dataset.last = html; }
          el.classList.remove("stale");
        })
        .catch(function () { el.classList.add("stale"); })
        .then(function () { setTimeout(tick, interval); });
    }
    setTimeout(tick, interval);
  }

  function followLog(pre) {
    function tick() {
      if (pre.dataset.finished === "true") { return; }
      fetch(pre.dataset.logUrl + "?after=" + encodeURIComponent(pre.dataset.next), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          if (data.html) {
            var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
            pre.insertAdjacentHTML("beforeend", data.html);  // escaped on the server
            if (atBottom) { window.scrollTo(0, document.body.scrollHeight); }
          }
          pre.dataset.next = String(data.next);
          var status = document.getElementById("build-status");
          if (status) { status.textContent = data.status; status.className = "state state-" + data.status; }
          if (data.finished) {
            pre.dataset.finished = "true";
            var following = document.getElementById("following");
            if (following) { following.textContent = data.status; }
          }
        })
        .catch(function () {})
        .then(function () { if (pre.dataset.finished !== "true") { setTimeout(tick, 1000); } });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(refresh);
    document.querySelectorAll("pre[data-log-url]").forEach(followLog);
  });
})();
