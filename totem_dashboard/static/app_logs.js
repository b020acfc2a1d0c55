// The app page's live log: reads the dashboard's NDJSON stream (GET /apps/<name>/logs, passed on from
// the deployer), one entry a line; shows `<instance> | <line>` with a colour per instance; reconnects
// from the last time shown when the stream ends or breaks. Text only: nothing from a log is parsed as HTML.
(function () {
  "use strict";
  var KEEP = 2000;  // lines kept in the panel
  var RETRY_MS = 3000;
  var COLOURS = ["#88c0d0", "#ebcb8b", "#b48ead", "#a3be8c", "#81a1c1", "#d08770", "#8fbcbb", "#bf616a"];

  function normal(time) {  // RFC 3339 in UTC with nine decimals, so that times compare as text
    var m = /^(.*?)(?:\.(\d+))?Z$/.exec(time || "");
    return m ? m[1] + "." + ((m[2] || "") + "000000000").slice(0, 9) + "Z" : "";
  }

  function follow(pre) {
    var state = document.getElementById("app-logs-state");
    var colours = {}, width = 0, last = "", lastRaw = "", seen = {};

    function show(entry) {
      var at = normal(entry.time), key = entry.node + "\n" + entry.stream + "\n" + entry.line;
      if (at < last || (at === last && seen[key])) { return; }  // sent again after a reconnect
      if (at !== last) { seen = {}; }
      last = at; lastRaw = entry.time; seen[key] = true;
      var name = String(entry.instance || entry.node || "?");
      if (!(name in colours)) { colours[name] = COLOURS[Object.keys(colours).length % COLOURS.length]; }
      width = Math.max(width, name.length);
      var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
      var row = document.createElement("span");
      row.className = "log-line log-" + entry.stream;
      row.dataset.instance = name;
      var prefix = document.createElement("span");
      prefix.className = "log-prefix";
      prefix.style.color = colours[name];
      prefix.textContent = name + " ".repeat(width - name.length) + " | ";
      row.appendChild(prefix);
      row.appendChild(document.createTextNode(String(entry.line) + "\n"));
      pre.appendChild(row);
      while (pre.childNodes.length > KEEP) { pre.removeChild(pre.firstChild); }
      if (atBottom) { pre.scrollTop = pre.scrollHeight; }
    }

    function read(response) {
      if (!response.ok || !response.body) { throw new Error("HTTP " + response.status); }
      state.textContent = "following";
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { return; }
          buffer += decoder.decode(chunk.value, {stream: true});
          var lines = buffer.split("\n");
          buffer = lines.pop();
          lines.forEach(function (line) { if (line.trim()) { show(JSON.parse(line)); } });
          return pump();
        });
      }
      return pump();
    }

    var leaving = new AbortController();  // the page goes: the stream is closed at once, not at its next write
    window.addEventListener("pagehide", function () { leaving.abort(); });

    function connect() {
      if (leaving.signal.aborted) { return; }
      var url = pre.dataset.logsUrl + (lastRaw ? "?since=" + encodeURIComponent(lastRaw) : "");
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/x-ndjson"}, signal: leaving.signal})
        .then(read)
        .then(function () { state.textContent = "reconnecting…"; })
        .catch(function () { state.textContent = "reconnecting…"; })
        .then(function () { setTimeout(connect, RETRY_MS); });
    }
    connect();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("pre[data-logs-url]").forEach(follow);
  });
})();
