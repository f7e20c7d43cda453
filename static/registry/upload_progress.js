// Progress of a bulk upload (templates/registry/uploads/detail.html): poll the same-origin
// JSON status every two seconds and reload the page when processing has finished, so that
// the result and the report link appear. Without JavaScript the page offers a refresh link.
const container = document.getElementById('upload-progress')

if (container) {
  const bar = document.getElementById('upload-progress-bar')
  const text = document.getElementById('upload-progress-text')
  const url = container.dataset.statusUrl
  let failures = 0

  const poll = async () => {
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      if (!response.ok) throw new Error(`status ${response.status}`)
      const status = await response.json()
      failures = 0
      if (status.finished) {
        window.location.reload()
        return
      }
      bar.value = status.percent
      bar.textContent = `${status.percent}%`
      text.textContent = status.rows_total
        ? `${status.rows_done} of ${status.rows_total} rows processed.`
        : `${status.state_label}.`
    } catch (error) {
      failures += 1
      if (failures >= 5) {
        text.textContent = 'Progress could not be checked. Refresh this page to try again.'
        return
      }
    }
    window.setTimeout(poll, 2000)
  }

  window.setTimeout(poll, 2000)
}
