#!/usr/bin/env bash
# Regenerates the hatch patterns used by the PolygonPatternSymbolizers of ../*.xml (ImageMagick).
# Each pattern is one 12 x 12 px cell whose strokes continue across its edges, so the cells tile
# without seams. PNG rather than SVG: Mapnik 3.1 drew the same cells written as SVG with gaps where
# the strokes cross the cell edges.
set -euo pipefail
cd "$(dirname "$0")"

# draw_hatch NAME COLOUR DIRECTION: DIRECTION "up" draws "/" strokes, "down" draws "\" strokes.
draw_hatch() {
  local name=$1 colour=$2 direction=$3
  local -a lines
  if [ "$direction" = up ]; then
    lines=(-draw "line -3,3 3,-3" -draw "line 0,12 12,0" -draw "line 9,15 15,9")
  else
    lines=(-draw "line -3,9 3,15" -draw "line 0,0 12,12" -draw "line 9,-3 15,3")
  fi
  convert -size 12x12 xc:none -stroke "$colour" -strokewidth 1.5 "${lines[@]}" -strip "PNG32:$name.png"
}

draw_hatch hatch-interdiction '#d7191c' up     # PPR zones of interdiction (typereg 03)
draw_hatch hatch-prescription '#2b3a8f' down   # PPR zones of prescriptions (typereg 02)
draw_hatch hatch-lden-65-70 '#fd0000' up       # NF S 31-130 colour of the 65-70 dB(A) class
draw_hatch hatch-lden-70-75 '#cf03fd' down     # NF S 31-130 colour of the 70-75 dB(A) class
