/// The dashboard at `/`: one self-contained HTML page (inline CSS and JavaScript, charts drawn as
/// inline SVG, nothing fetched from the internet) that polls the JSON API every two seconds.
///
/// When the server requires a token, open it as `http://host:port/#token=<token>`: the page keeps
/// the token in the tab's session storage, removes it from the address bar and sends it as a bearer
/// token; the fragment never reaches the server or its logs. Without one it asks for it.
///
/// Elements carry ids and `data-` attributes (`#processed`, `#chart-throughput[data-latest]`,
/// `#events tr[data-event-id]`, …) so tests and scripts can read the figures from the DOM.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Tagwave worker</title>
        <style>
          :root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --muted:#6b7385; --line:#e3e6ec; --accent:#2f6fdf;
                  --ok:#1f9d55; --warn:#d98a00; --bad:#d64545; }
          * { box-sizing: border-box; }
          body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--ink); }
          header { display:flex; align-items:center; gap:16px; padding:14px 24px; background:var(--card); border-bottom:1px solid var(--line); }
          header h1 { font-size:18px; margin:0; font-weight:600; }
          header .meta { color:var(--muted); font-size:13px; }
          header .links { margin-left:auto; font-size:13px; }
          header .links a { color:var(--accent); margin-left:12px; text-decoration:none; }
          .badge { display:inline-block; padding:2px 10px; border-radius:999px; font-size:12px; font-weight:600; color:#fff; background:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
          .badge.healthy { background:var(--ok); } .badge.degraded { background:var(--warn); } .badge.unhealthy { background:var(--bad); }
          main { padding:20px 24px; display:grid; gap:20px; }
          .figures { display:grid; grid-template-columns:repeat(auto-fit,minmax(140px,1fr)); gap:12px; }
          .figure { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
          .figure .label { color:var(--muted); font-size:12px; }
          .figure .value { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; }
          .charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(240px,1fr)); gap:12px; }
          .chart { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
          .chart h2, section h2 { font-size:13px; margin:0 0 6px; font-weight:600; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
          .chart .now { float:right; color:var(--ink); font-weight:600; text-transform:none; letter-spacing:0; }
          .chart svg { width:100%; height:90px; display:block; }
          section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; overflow:auto; }
          table { width:100%; border-collapse:collapse; font-size:13px; }
          th { text-align:left; color:var(--muted); font-weight:600; border-bottom:1px solid var(--line); padding:6px 8px; white-space:nowrap; }
          td { border-bottom:1px solid var(--line); padding:6px 8px; vertical-align:top; }
          td.num { text-align:right; font-variant-numeric:tabular-nums; }
          td code { font-size:12px; }
          .status { font-weight:600; } .status.processed { color:var(--ok); } .status.dead_lettered, .status.open { color:var(--bad); } .status.lost { color:var(--warn); }
          .empty { color:var(--muted); font-style:italic; }
          #reasons { color:var(--muted); font-size:13px; }
          #reasons:empty { display:none; }
          #problem { display:none; background:#fdecec; border:1px solid #f3b9b9; color:#8a1f1f; padding:10px 14px; border-radius:8px; }
          #login { display:none; gap:8px; align-items:center; }
          #login input { padding:6px 8px; border:1px solid var(--line); border-radius:6px; min-width:280px; }
          #login button { padding:6px 12px; border:0; border-radius:6px; background:var(--accent); color:#fff; cursor:pointer; }
        </style>
        </head>
        <body>
        <header>
          <h1>Tagwave worker</h1>
          <span id="health" class="badge" data-status="">…</span>
          <span class="meta"><span id="consumer">—</span> · stream <span id="stream">—</span> · group <span id="group">—</span> · up <span id="uptime">—</span></span>
          <span class="links"><a href="health">/health</a><a href="metrics">/metrics</a><a href="api/stats">/api/stats</a></span>
        </header>
        <main>
          <div id="problem"></div>
          <div id="reasons"></div>
          <form id="login"><span>This admin server needs its bearer token:</span><input id="token" type="password" autocomplete="off" placeholder="admin token"><button>Open</button></form>
          <div class="figures">
            <div class="figure"><div class="label">Processed</div><div class="value" id="processed">—</div></div>
            <div class="figure"><div class="label">Events/s</div><div class="value" id="events-per-second">—</div></div>
            <div class="figure"><div class="label">Lag (entries)</div><div class="value" id="lag">—</div></div>
            <div class="figure"><div class="label">Pending</div><div class="value" id="pending">—</div></div>
            <div class="figure"><div class="label">Hit rate <span id="hit-rate-source"></span></div><div class="value" id="hit-rate">—</div></div>
            <div class="figure"><div class="label">Dead letters</div><div class="value" id="dead-letter-count">—</div></div>
            <div class="figure"><div class="label">Entries invalidated</div><div class="value" id="entries-invalidated">—</div></div>
            <div class="figure"><div class="label">Warm jobs</div><div class="value" id="warm-jobs">—</div></div>
          </div>
          <div class="charts">
            <div class="chart"><h2>Throughput <span class="now" id="now-throughput"></span></h2><svg id="chart-throughput" viewBox="0 0 300 90" preserveAspectRatio="none" role="img" aria-label="events per second"></svg></div>
            <div class="chart"><h2>Lag <span class="now" id="now-lag"></span></h2><svg id="chart-lag" viewBox="0 0 300 90" preserveAspectRatio="none" role="img" aria-label="consumer lag"></svg></div>
            <div class="chart"><h2>Hit rate <span class="now" id="now-hit-rate"></span></h2><svg id="chart-hit-rate" viewBox="0 0 300 90" preserveAspectRatio="none" role="img" aria-label="hit rate"></svg></div>
            <div class="chart"><h2>Errors <span class="now" id="now-errors"></span></h2><svg id="chart-errors" viewBox="0 0 300 90" preserveAspectRatio="none" role="img" aria-label="errors per interval"></svg></div>
          </div>
          <section>
            <h2>Recent events</h2>
            <table id="events"><thead><tr><th>Occurred</th><th>Event</th><th>Type</th><th>Outcome</th><th>Tags</th><th class="num">Removed</th><th class="num">Took (ms)</th><th class="num">Lag (ms)</th><th>Worker</th></tr></thead><tbody><tr><td colspan="9" class="empty">loading…</td></tr></tbody></table>
          </section>
          <section>
            <h2>Dead-letter queue</h2>
            <table id="dead-letters"><thead><tr><th>When</th><th>Event</th><th>Type</th><th>Reason</th><th class="num">Attempts</th><th>Worker</th></tr></thead><tbody><tr><td colspan="6" class="empty">loading…</td></tr></tbody></table>
          </section>
        </main>
        <script>
        (function () {
          "use strict";
          var KEY = "tagwave-admin-token";
          var match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
          if (match) {
            sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
            history.replaceState(null, "", location.pathname + location.search);
          }
          var interval = 2;

          function $(id) { return document.getElementById(id); }
          function text(id, value) { $(id).textContent = value; }
          function number(value, digits) {
            if (value === null || value === undefined) return "—";
            return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits || 0 });
          }
          function time(iso) { return iso ? new Date(iso).toLocaleTimeString() : "—"; }
          function duration(seconds) {
            seconds = Math.floor(seconds);
            var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
            return (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
          }
          function get(path) {
            var token = sessionStorage.getItem(KEY);
            return fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {} }).then(function (response) {
              if (response.status === 401) { $("login").style.display = "flex"; throw new Error("a bearer token is required"); }
              if (!response.ok) throw new Error(path + " answered " + response.status);
              return response.json();
            });
          }
          function cell(row, value, className) {
            var td = document.createElement("td");
            if (className) td.className = className;
            td.textContent = value === null || value === undefined ? "—" : String(value);
            row.appendChild(td);
            return td;
          }
          function fill(tableID, rows, columns, emptyText, decorate) {
            var body = $(tableID).tBodies[0];
            var fresh = document.createElement("tbody");
            if (!rows.length) {
              var tr = document.createElement("tr");
              var td = cell(tr, emptyText, "empty");
              td.colSpan = columns;
              fresh.appendChild(tr);
            }
            rows.forEach(function (item) { fresh.appendChild(decorate(item)); });
            body.parentNode.replaceChild(fresh, body);
            $(tableID).setAttribute("data-rows", String(rows.length));
          }
          function chart(id, values, format, color) {
            var svg = $(id);
            var width = 300, height = 90, top = 6, bottom = 14;
            var known = values.filter(function (v) { return v !== null && v !== undefined; });
            var max = Math.max.apply(null, known.concat([id === "chart-hit-rate" ? 100 : 1]));
            var step = values.length > 1 ? width / (values.length - 1) : width;
            var points = [];
            values.forEach(function (v, i) {
              if (v === null || v === undefined) return;
              points.push((i * step).toFixed(1) + "," + (top + (height - top - bottom) * (1 - v / max)).toFixed(1));
            });
            var ns = "http://www.w3.org/2000/svg";
            while (svg.firstChild) svg.removeChild(svg.firstChild);
            var base = document.createElementNS(ns, "line");
            base.setAttribute("x1", "0"); base.setAttribute("x2", String(width));
            base.setAttribute("y1", String(height - bottom)); base.setAttribute("y2", String(height - bottom));
            base.setAttribute("stroke", "#e3e6ec");
            svg.appendChild(base);
            if (points.length) {
              var area = document.createElementNS(ns, "polygon");
              var first = points[0].split(",")[0], last = points[points.length - 1].split(",")[0];
              area.setAttribute("points", first + "," + (height - bottom) + " " + points.join(" ") + " " + last + "," + (height - bottom));
              area.setAttribute("fill", color); area.setAttribute("fill-opacity", "0.12");
              svg.appendChild(area);
              var line = document.createElementNS(ns, "polyline");
              line.setAttribute("points", points.join(" "));
              line.setAttribute("fill", "none"); line.setAttribute("stroke", color); line.setAttribute("stroke-width", "2");
              line.setAttribute("vector-effect", "non-scaling-stroke");
              svg.appendChild(line);
            }
            var label = document.createElementNS(ns, "text");
            label.setAttribute("x", "2"); label.setAttribute("y", String(height - 2));
            label.setAttribute("font-size", "10"); label.setAttribute("fill", "#6b7385");
            var span = values.length * interval;
            label.textContent = "max " + format(max) + " · last " + (span < 120 ? Math.round(span) + " s" : Math.round(span / 6) / 10 + " min");
            svg.appendChild(label);
            var latest = known.length ? known[known.length - 1] : null;
            svg.setAttribute("data-points", String(points.length));
            svg.setAttribute("data-latest", latest === null ? "" : String(latest));
            svg.setAttribute("data-max", String(max));
            return latest;
          }
          function render(stats, events, dead) {
            var badge = $("health");
            badge.textContent = stats.overall || "unknown";
            badge.className = "badge " + (stats.overall || "");
            badge.setAttribute("data-status", stats.overall || "");
            text("consumer", stats.consumer || "admin");
            text("stream", stats.stream); text("group", stats.group);
            text("uptime", duration(stats.uptimeSeconds));
            var progress = stats.progress || {};
            text("processed", number(progress.processed));
            $("processed").setAttribute("data-value", String(progress.processed === undefined ? "" : progress.processed));
            text("events-per-second", number(stats.eventsPerSecond, 1));
            text("lag", number(stats.lag)); text("pending", number(stats.pending));
            text("hit-rate", stats.hitRate === null || stats.hitRate === undefined ? "—" : number(stats.hitRate, 1) + " %");
            text("hit-rate-source", stats.hitRateSource === "redis" ? "(keyspace)" : stats.hitRateSource ? "(" + stats.hitRateSource + ")" : "");
        text("reasons", (stats.reasons || []).join(" · "));
            text("dead-letter-count", number(stats.deadLetters));
            text("entries-invalidated", number(progress.entriesInvalidated));
            text("warm-jobs", stats.warm ? number(stats.warm.succeeded) + " / " + number(stats.warm.scheduled) : "—");
            interval = stats.sampleIntervalSeconds || interval;
            var history = stats.history || [];
            function series(key) { return history.map(function (p) { return p[key] === undefined ? null : p[key]; }); }
            var rate = chart("chart-throughput", series("eventsPerSecond"), function (v) { return number(v, 1) + "/s"; }, "#2f6fdf");
            text("now-throughput", rate === null ? "" : number(rate, 1) + " events/s");
            var lag = chart("chart-lag", series("lag"), function (v) { return number(v); }, "#7a4fd6");
            text("now-lag", lag === null ? "" : number(lag) + " entries");
            var hits = chart("chart-hit-rate", series("hitRate"), function (v) { return number(v) + " %"; }, "#1f9d55");
            text("now-hit-rate", hits === null ? "" : number(hits, 1) + " %");
            var errors = chart("chart-errors", series("errors"), function (v) { return number(v); }, "#d64545");
            text("now-errors", errors === null ? "" : number(errors) + " in " + number(interval, 1) + " s");

            fill("events", events.events, 9, "no events recorded yet", function (e) {
              var tr = document.createElement("tr");
              tr.setAttribute("data-event-id", e.id);
              tr.setAttribute("data-status", e.status);
              cell(tr, time(e.occurredAt));
              cell(tr, e.id).title = e.streamID;
              cell(tr, e.type);
              cell(tr, e.status.replace("_", " "), "status " + e.status);
              cell(tr, (e.tags || []).join(", ") || (e.error || ""));
              cell(tr, number(e.entriesRemoved), "num");
              cell(tr, number(e.durationMs, 1), "num");
              cell(tr, number(e.processedAt ? Date.parse(e.processedAt) - Date.parse(e.occurredAt) : null), "num");
              cell(tr, e.worker);
              return tr;
            });
            fill("dead-letters", dead.deadLetters, 6, "the dead-letter queue is empty", function (d) {
              var tr = document.createElement("tr");
              tr.setAttribute("data-event-id", d.eventID);
              cell(tr, time(d.deadLetteredAt));
              cell(tr, d.eventID).title = d.streamID;
              cell(tr, d.type);
              var reason = cell(tr, d.reasonCode + ": " + d.reason);
              reason.className = "status open";
              cell(tr, number(d.attempts), "num");
              cell(tr, d.worker);
              return tr;
            });
          }
          function refresh() {
            return Promise.all([get("api/stats"), get("api/events?limit=25"), get("api/dead-letters?limit=25")])
              .then(function (all) {
                render(all[0], all[1], all[2]);
                $("problem").style.display = "none";
                document.body.setAttribute("data-updated", String(Date.now()));
              })
              .catch(function (error) {
                var problem = $("problem");
                problem.textContent = "Cannot reach the worker's admin API: " + error.message;
                problem.style.display = "block";
              });
          }
          $("login").addEventListener("submit", function (event) {
            event.preventDefault();
            sessionStorage.setItem(KEY, $("token").value);
            $("login").style.display = "none";
            refresh();
          });
          refresh();
          setInterval(refresh, 2000);
        })();
        </script>
        </body>
        </html>
        """#
}
