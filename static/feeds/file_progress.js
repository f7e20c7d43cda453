// The feed file page's live update (kept out of the HTML: the Content-Security-Policy allows
// no inline script). Every 3 seconds the counters are refreshed from the progress URL. When
// the file is no longer waiting or running, the parts that depend on the end are refreshed
// from the page itself (the rejected rows and the links under them), and a "being
// ingested" banner from the upload says how it ended.
const region = document.getElementById('feed-progress')

function bannerSaysHowItEnded (state, label) {
  for (const heading of document.querySelectorAll('.govuk-notification-banner__heading')) {
    if (heading.textContent.includes('being ingested')) {
      heading.textContent = state === 'done'
        ? 'The file has been ingested.'
        : `The file was not fully ingested: ${label}.`
    }
  }
}

function refreshFinishedParts (progress) {
  fetch(window.location.href, { credentials: 'same-origin' })
    .then((response) => response.text())
    .then((html) => {
      const fresh = new DOMParser().parseFromString(html, 'text/html')
      for (const id of ['feed-rejected', 'feed-actions']) {
        const current = document.getElementById(id)
        const replacement = fresh.getElementById(id)
        if (current && replacement) current.replaceWith(replacement)
      }
    })
  bannerSaysHowItEnded(progress.state, progress.state_label)
}

function update () {
  fetch(region.dataset.progressUrl, { credentials: 'same-origin' })
    .then((response) => response.json())
    .then((progress) => {
      for (const element of region.querySelectorAll('[data-field]')) {
        const value = progress[element.dataset.field]
        element.textContent = value === null ? '(counting)' : value
      }
      if (progress.state === 'waiting' || progress.state === 'running') {
        window.setTimeout(update, 3000)
      } else {
        refreshFinishedParts(progress)
      }
    })
}

if (region && (region.dataset.state === 'waiting' || region.dataset.state === 'running')) {
  window.setTimeout(update, 3000)
} else if (region) {
  // Finished before the page was shown (a small file): the upload's banner must not say
  // it is still being ingested.
  bannerSaysHowItEnded(region.dataset.state, region.dataset.stateLabel)
}
