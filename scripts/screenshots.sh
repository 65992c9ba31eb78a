#!/usr/bin/env bash
# Regenerates screenshots/*.png, the pictures of the inspector's main
# screens (device tree with details, hex view of a PV header, history with
# a diff, what a partition holds instead of a PV, an old-style snapshot,
# the export form, an export in progress, a virtualisation host's guests
# under its thin LVs, an E01's own structures in the hex view, a degraded
# md RAID5 array with its members and missing role, a LUKS2 volume opened
# with its passphrase).
#
# The frames come from the inspector itself on real fixtures (the built-in
# demo disk "banana", the "history", "snapshot", "multipv", "gpt-disk",
# "nested-thin", "md-raid5" and "luks2-lvm" fixtures, and the E01 container
# of banana),
# driven by key sequences like those of the golden tests in ui/
# (TestScreenshots writes them as ANSI text, screenshots/*.ans, in true
# colour on a dark background); the
# export is held mid-way by a file system whose writes wait, so that its
# progress bar can be pictured. freeze (a pinned go tool, see go.mod) turns
# each frame into a PNG, with its own embedded font and renderer: no
# display, browser or system font is needed.
#
# Usage: scripts/screenshots.sh   (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

SCREENSHOTS=1 go test ./ui -run '^TestScreenshots$' -count=1
for ans in screenshots/*.ans; do
	png="${ans%.ans}.png"
	# freeze renders PNGs at 4x: a 10-point font gives ~3000 pixels across,
	# sharp, at half the bytes of the default 14 points (freeze v0.2.2 cuts
	# the last line of the frame at smaller sizes).
	go tool freeze --language ansi --window --padding 10 --font.size 10 -o "$png" < "$ans"
	chmod 644 "$png"
done
ls -l screenshots/
