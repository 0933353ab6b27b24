// Web chat client for hocvuso. Plain JS, no dependencies (works on an offline kiosk).
// Contract: POST /chat/messages {"text": "..."} | {"button": "<id>"}
//   -> {"replies": [{"text": "...", "buttons": [{"id", "label"}], "image": null | "url"}]}
"use strict";

(function () {
  const ENDPOINT = "/chat/messages";
  const TIMEOUT_MS = 30000;
  const MSG = {
    network: "Mạng đang chập chờn. Bạn thử gửi lại nhé.",
    tooFast: "Bạn gửi nhanh quá, chờ một chút rồi gửi lại nhé.",
    invalid: "Tin nhắn chưa gửi được. Bạn xem lại rồi gửi lại nhé.",
    retry: "Thử lại",
  };

  const scroller = document.getElementById("scroller");
  const list = document.getElementById("messages");
  const typing = document.getElementById("typing");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendBtn = document.getElementById("send");

  let busy = false;
  let batch = 0; // increments with every bot answer

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text); // never innerHTML
    return node;
  }

  // Show the newest content; if the new block is taller than the view,
  // show its beginning instead so slow readers start at the top of it.
  function reveal(first) {
    if (first && list.lastElementChild &&
        list.lastElementChild.getBoundingClientRect().bottom -
        first.getBoundingClientRect().top > scroller.clientHeight) {
      scroller.scrollTop += first.getBoundingClientRect().top - scroller.getBoundingClientRect().top - 8;
    } else {
      scroller.scrollTop = scroller.scrollHeight;
    }
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    sendBtn.disabled = on;
    list.querySelectorAll(".choices button").forEach((b) => { b.disabled = on; });
    if (on) scroller.scrollTop = scroller.scrollHeight;
  }

  // Buttons belong only to the latest bot answer: drop older ones.
  function clearChoices() {
    list.querySelectorAll(".choices").forEach((c) => c.remove());
  }

  function addChoices(buttons, onPress) {
    const box = el("div", "choices");
    buttons.forEach((b) => {
      const btn = el("button", "choice", b.label);
      btn.type = "button";
      btn.addEventListener("click", () => onPress(b));
      box.appendChild(btn);
    });
    list.appendChild(box);
    return box;
  }

  function addMine(text) {
    const node = el("div", "bubble me", text);
    list.appendChild(node);
    return node;
  }

  function addNote(text) {
    const node = el("p", "note", text);
    list.appendChild(node);
    return node;
  }

  function addReplies(replies) {
    const myBatch = ++batch;
    let first = null;
    let lastBox = null;
    replies.forEach((r) => {
      if (!r || typeof r !== "object") return;
      const bubble = el("div", "bubble bot");
      if (typeof r.image === "string" && r.image) {
        const img = document.createElement("img");
        img.src = r.image;
        img.alt = "";
        // Images change the height after layout: re-reveal while still the newest answer.
        img.addEventListener("load", () => { if (myBatch === batch && !busy) reveal(first); });
        bubble.appendChild(img);
      }
      if (typeof r.text === "string" && r.text) {
        bubble.appendChild(document.createTextNode(r.text));
      }
      if (!bubble.firstChild) return;
      list.appendChild(bubble);
      first = first || bubble;
      const buttons = Array.isArray(r.buttons)
        ? r.buttons.filter((b) => b && b.id != null && typeof b.label === "string")
        : [];
      if (buttons.length) lastBox = addChoices(buttons, pressButton);
    });
    reveal(first);
    return lastBox;
  }

  async function post(payload) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch(ENDPOINT, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(payload),
        signal: ctrl.signal,
      });
      let data = null;
      try { data = await res.json(); } catch (_) { /* non-JSON body */ }
      return { status: res.status, data };
    } catch (_) {
      return { status: 0, data: null }; // network failure or timeout
    } finally {
      clearTimeout(timer);
    }
  }

  // Sends payload; returns true when the bot answered.
  async function send(payload, mine, onRetry) {
    if (busy) return false;
    // Disabled buttons lose focus, so remember now whether a choice was pressed.
    const fromChoice = !!(document.activeElement && document.activeElement.classList.contains("choice"));
    const firstNew = mine ? addMine(mine) : null;
    if (firstNew) reveal(firstNew);
    setBusy(true);
    const { status, data } = await post(payload);
    setBusy(false);

    if (status >= 200 && status < 300 && data && Array.isArray(data.replies)) {
      clearChoices();
      const box = addReplies(data.replies);
      // Keyboard users who pressed a button keep their place on the new buttons.
      if (fromChoice && box) box.firstElementChild.focus({ preventScroll: true });
      return true;
    }

    let text;
    if (status === 429) text = MSG.tooFast;
    else if (status >= 400 && status < 500) {
      text = data && typeof data.detail === "string" && data.detail.trim() ? data.detail : MSG.invalid;
    } else text = MSG.network; // 0, 5xx, or a 2xx without a usable body
    const note = addNote(text);
    if (onRetry && status !== 400 && status !== 413 && status !== 422) {
      const box = addChoices([{ id: "_retry", label: MSG.retry }], () => {
        box.remove();
        onRetry();
      });
    }
    reveal(note);
    return false;
  }

  function pressButton(b) {
    if (busy) return;
    send({ button: String(b.id) }, b.label);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy) return;
    const text = input.value.trim();
    if (!text) { input.focus(); return; }
    input.value = "";
    const ok = await send({ text }, text);
    // Nothing is lost: put the text back unless the learner already typed again.
    if (!ok && !input.value) input.value = text;
  });

  function start() {
    send({ text: "/start" }, null, start);
  }

  start();
})();
