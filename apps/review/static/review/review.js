/* Review queue: keyboard shortcuts and in-place decisions.
 *
 * a accept · r reject · c change tag (search, Enter takes the first match, Esc closes) · u undo ·
 * j / k next / previous flag (pages on at the ends) · ? help.
 * Decisions post the card's form with fetch and swap in the card the server answers, then move on.
 * Everything the page needs comes from the DOM and the json_script block "queue-data"; nothing is built
 * from strings into HTML here.
 */
(function () {
  "use strict";

  var queue = document.getElementById("queue");
  var dataNode = document.getElementById("queue-data");
  if (!queue || !dataNode) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var help = document.getElementById("shortcut-help");
  var current = null;

  function cards() {
    return Array.prototype.slice.call(queue.querySelectorAll(".flag-card"));
  }

  function currentCard() {
    return current ? document.getElementById("f" + current) : null;
  }

  function loadNeighbours(card) {
    var box = card.querySelector(".neighbours");
    if (!box || box.dataset.loaded) {
      return;
    }
    box.dataset.loaded = "1";
    fetch(box.dataset.url, {headers: {"X-Requested-With": "fetch"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { box.innerHTML = html; });
  }

  function select(card) {
    if (!card) {
      return;
    }
    cards().forEach(function (c) { c.classList.toggle("current", c === card); });
    current = card.dataset.flagId;
    if (window.history && history.replaceState) {
      history.replaceState(null, "", "#f" + current);
    }
    card.scrollIntoView({block: "nearest"});
    loadNeighbours(card);
  }

  function move(delta) {
    var list = cards();
    var index = list.findIndex(function (c) { return c.dataset.flagId === current; });
    var next = index + delta;
    if (next >= 0 && next < list.length) {
      select(list[next]);
    } else if (delta > 0 && data.nextUrl) {
      window.location.href = data.nextUrl;
    } else if (delta < 0 && data.previousUrl) {
      window.location.href = data.previousUrl + "#last";
    }
  }

  function refreshProgress() {
    document.body.dispatchEvent(new CustomEvent("review-decided"));
  }

  function swapCard(old, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (!fresh || !fresh.classList.contains("flag-card")) {
      return null;
    }
    old.replaceWith(fresh);
    if (window.htmx) {
      window.htmx.process(fresh);
    }
    return fresh;
  }

  function submitDecision(form, submitter) {
    var card = form.closest(".flag-card");
    var body = new FormData(form);
    if (submitter && submitter.name) {
      body.set(submitter.name, submitter.value);
    }
    card.classList.add("busy");
    // form.getAttribute, not form.action: the buttons named "action" shadow that property.
    fetch(form.getAttribute("action"), {method: "POST", body: body, credentials: "same-origin",
                        headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        return response.text().then(function (html) { return {ok: response.ok, html: html}; });
      })
      .then(function (result) {
        var fresh = swapCard(card, result.html);
        if (!fresh) {
          card.classList.remove("busy");
          return;
        }
        select(fresh);
        refreshProgress();
        if (result.ok && fresh.dataset.decision) {
          move(1);
        }
      })
      .catch(function () { card.classList.remove("busy"); });
  }

  function clickAction(card, action) {
    var button = card && card.querySelector('.decide-form button[data-action="' + action + '"]');
    if (button) {
      button.click();
    }
  }

  function openChange(card) {
    if (!card) {
      return;
    }
    var panel = card.querySelector(".change-panel");
    panel.hidden = false;
    panel.querySelector(".tag-search").focus();
  }

  function closeChange(card) {
    var panel = card && card.querySelector(".change-panel");
    if (panel) {
      panel.hidden = true;
      card.focus();
    }
  }

  function undo() {
    var form = document.getElementById("undo-form");
    if (form) {
      form.requestSubmit();
    }
  }

  function toggleHelp(show) {
    if (help) {
      help.hidden = show === undefined ? !help.hidden : !show;
    }
  }

  queue.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("decide-form")) {
      return;
    }
    event.preventDefault();
    submitDecision(form, event.submitter);
  });

  queue.addEventListener("click", function (event) {
    var button = event.target.closest('button[data-action="change"]');
    if (button) {
      openChange(button.closest(".flag-card"));
      return;
    }
    var card = event.target.closest(".flag-card");
    if (card && card.dataset.flagId !== current) {
      select(card);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (target.matches && target.matches("input, textarea, select")) {
      if (target.classList.contains("tag-search")) {
        if (event.key === "Enter") {
          event.preventDefault();
          var first = target.closest(".change-panel").querySelector(".tag-results button");
          if (first) {
            first.click();
          }
        } else if (event.key === "Escape") {
          closeChange(target.closest(".flag-card"));
        }
      }
      return;
    }
    var card = currentCard();
    switch (event.key) {
      case "a": clickAction(card, "accept"); break;
      case "r": clickAction(card, "reject"); break;
      case "c": openChange(card); break;
      case "u": undo(); break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "?": toggleHelp(); break;
      case "Escape": toggleHelp(false); break;
      default: return;
    }
    event.preventDefault();
  });

  var list = cards();
  var hash = window.location.hash;
  var start = null;
  if (hash === "#last") {
    start = list[list.length - 1];
  } else if (hash.indexOf("#f") === 0) {
    start = document.getElementById(hash.slice(1));
  }
  select(start || list[0]);
  document.body.dataset.reviewReady = "1";
})();
