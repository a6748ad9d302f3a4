// Live updates of previewd's dashboard: the list (and a preview's page) is asked again as JSON
// every few seconds and written with textContent and DOM nodes, never as HTML, so text from
// GitHub never becomes markup. Only http(s) addresses become links.
(function () {
  "use strict";
  var EVERY_MS = 5000;

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function linkOrText(url, text) {
    var href = safeUrl(url);
    if (!href) {
      return document.createTextNode(text);
    }
    var a = document.createElement("a");
    a.setAttribute("href", href);
    a.setAttribute("rel", "noopener noreferrer");
    a.textContent = text;
    return a;
  }

  function phaseBadge(card) {
    var span = document.createElement("span");
    span.className = "phase phase-" + String(card.phase).toLowerCase().replace(/[^a-z]/g, "");
    span.textContent = card.icon + " " + card.phase;
    return span;
  }

  function cell(label, content) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (typeof content === "string") {
      td.textContent = content;
    } else {
      td.appendChild(content);
    }
    return td;
  }

  function row(card) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-name", card.name);
    tr.appendChild(cell("Pull request", linkOrText(card.prUrl, "#" + card.number + " " + card.title)));
    tr.appendChild(cell("Author", card.author));
    tr.appendChild(cell("Phase", phaseBadge(card)));
    tr.appendChild(cell("Preview", card.url ? linkOrText(card.url, card.url) : "—"));
    tr.appendChild(cell("Commit", card.sha ? linkOrText(card.commitUrl, card.sha) : "—"));
    tr.appendChild(cell("Age", card.age));
    tr.appendChild(cell("Expires", card.expires));
    tr.appendChild(cell("Queue", card.queue));
    var details = document.createElement("td");
    details.setAttribute("data-label", "Details");
    var a = document.createElement("a");
    a.setAttribute("href", "/previews/" + encodeURIComponent(card.name));
    a.textContent = "details";
    var message = document.createElement("span");
    message.className = "message";
    message.textContent = card.message;
    details.appendChild(a);
    details.appendChild(document.createTextNode(" "));
    details.appendChild(message);
    tr.appendChild(details);
    return tr;
  }

  var HEADERS = ["Pull request", "Author", "Phase", "Preview", "Commit", "Age", "Expires", "Queue", "Details"];

  function table(cards) {
    var t = document.createElement("table");
    var head = document.createElement("thead");
    var tr = document.createElement("tr");
    HEADERS.forEach(function (h) {
      var th = document.createElement("th");
      th.setAttribute("scope", "col");
      th.textContent = h;
      tr.appendChild(th);
    });
    head.appendChild(tr);
    t.appendChild(head);
    var body = document.createElement("tbody");
    cards.forEach(function (c) { body.appendChild(row(c)); });
    t.appendChild(body);
    return t;
  }

  function renderList(container, cards) {
    var fresh = document.createDocumentFragment();
    if (cards.length === 0) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = "No previews.";
      fresh.appendChild(p);
    }
    var i = 0;
    while (i < cards.length) {
      var repository = cards[i].repository;
      var group = [];
      while (i < cards.length && cards[i].repository === repository) {
        group.push(cards[i]);
        i += 1;
      }
      var section = document.createElement("section");
      var h2 = document.createElement("h2");
      h2.textContent = repository;
      section.appendChild(h2);
      section.appendChild(table(group));
      fresh.appendChild(section);
    }
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    container.appendChild(fresh);
  }

  function stamp() {
    var updated = document.getElementById("updated");
    if (updated) {
      updated.textContent = "Updated " + new Date().toISOString().slice(11, 19) + " UTC";
    }
  }

  function getJson(path) {
    return fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      });
  }

  var list = document.getElementById("previews");
  if (list) {
    setInterval(function () {
      getJson("/api/previews" + window.location.search)
        .then(function (cards) { renderList(list, cards); stamp(); })
        .catch(function () { /* the next round tries again */ });
    }, EVERY_MS);
  }

  var name = document.body.getAttribute("data-preview");
  if (name) {
    setInterval(function () {
      getJson("/api/previews/" + encodeURIComponent(name))
        .then(function (card) {
          var phase = document.getElementById("phase");
          if (phase) {
            var fresh = phaseBadge(card);
            phase.className = fresh.className;
            phase.textContent = fresh.textContent;
          }
          var message = document.getElementById("message");
          if (message) { message.textContent = card.message || "—"; }
        })
        .catch(function () { /* the next round tries again */ });
    }, EVERY_MS);
  }
})();
