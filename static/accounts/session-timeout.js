// Warns before the server ends an idle session, and offers to stay signed in.
// The server decides: this only counts down from the last page load or "stay signed in".
const dialog = document.querySelector('[data-module="app-session-timeout"]')

if (dialog && typeof dialog.showModal === 'function') {
  const idleMs = Number(dialog.dataset.idleSeconds) * 1000
  const warningMs = Number(dialog.dataset.warningSeconds) * 1000
  const countdown = dialog.querySelector('.app-timeout-countdown')
  const keepAlive = dialog.querySelector('.app-timeout-keep-alive')
  let deadline = 0
  let warnTimer = null
  let tickTimer = null

  const describe = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000))
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60)
      return `${minutes} minute${minutes === 1 ? '' : 's'}`
    }
    return `${seconds} second${seconds === 1 ? '' : 's'}`
  }

  const tick = () => {
    const left = deadline - Date.now()
    if (left <= 0) {
      window.location.assign(dialog.dataset.signedOutUrl)
      return
    }
    countdown.textContent = describe(left)
  }

  const warn = () => {
    tick()
    dialog.showModal()
    dialog.querySelector('button').focus()
    tickTimer = window.setInterval(tick, 1000)
  }

  const start = () => {
    window.clearTimeout(warnTimer)
    window.clearInterval(tickTimer)
    deadline = Date.now() + idleMs
    warnTimer = window.setTimeout(warn, Math.max(0, idleMs - warningMs))
  }

  keepAlive.addEventListener('submit', async (event) => {
    event.preventDefault()
    const response = await fetch(keepAlive.action, {
      method: 'POST',
      body: new FormData(keepAlive),
      headers: { Accept: 'application/json' },
      credentials: 'same-origin'
    })
    if (response.ok) {
      dialog.close()
      start()
    } else {
      window.location.assign(dialog.dataset.signedOutUrl)
    }
  })

  // Escape closes a modal dialog; treat it as "stay signed in" rather than losing the warning.
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault()
    keepAlive.requestSubmit()
  })

  start()
}
