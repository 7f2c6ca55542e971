# gui: Debian's Chromium for the browser-tier tests. Playwright (the `gui` extra, installed by
# the README's test command) drives it through executable_path=/usr/bin/chromium; Playwright's
# own browser download is never used (it does not work here). chromium-driver is for the
# optional adapter over the `miniwob` gymnasium environment (Selenium). fonts-liberation is
# named because the screenshots show text in those fonts.
$SUDO apt-get install -y --no-install-recommends chromium chromium-driver fonts-liberation
chromium --version 2>/dev/null | head -n 1
export TURNRL_CHROMIUM=/usr/bin/chromium
