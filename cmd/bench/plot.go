package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/payoutflow/payoutflow/internal/bench/report"
)

// plotLevels draws throughput and p99 latency against payouts in flight, both sides, side by side, as SVG or PNG
// (by path's extension).
func plotLevels(levels []report.Level, path string) error {
	series := func(f func(report.Level) (float64, float64)) (pf, peer plotter.XYs) {
		for _, l := range levels {
			a, b := f(l)
			pf = append(pf, plotter.XY{X: float64(l.InFlight), Y: a})
			peer = append(peer, plotter.XY{X: float64(l.InFlight), Y: b})
		}
		return pf, peer
	}
	var ticks []plot.Tick
	for _, l := range levels {
		ticks = append(ticks, plot.Tick{Value: float64(l.InFlight), Label: fmt.Sprint(l.InFlight)})
	}
	// legendTop: the legend goes top left (where latency, rising with load, is low), else bottom right.
	panel := func(title, y string, legendTop bool, f func(report.Level) (float64, float64)) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, "payouts in flight (log scale)", y
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = float64(levels[0].InFlight)*0.8, float64(levels[len(levels)-1].InFlight)*1.25
		p.Legend.Top, p.Legend.Left = legendTop, legendTop
		p.Add(plotter.NewGrid())
		pf, peer := series(f)
		p.Y.Min = 0
		for _, xy := range append(pf, peer...) {
			p.Y.Max = max(p.Y.Max, xy.Y*1.15)
		}
		for _, s := range []struct {
			name string
			xys  plotter.XYs
			c    color.Color
			dash []vg.Length
		}{{"payoutflow", pf, color.RGBA{R: 0xc0, G: 0x30, B: 0x30, A: 0xff}, nil},
			{"bare Temporal peer", peer, color.RGBA{R: 0x30, G: 0x60, B: 0xc0, A: 0xff}, []vg.Length{vg.Points(4), vg.Points(3)}}} {
			line, points, err := plotter.NewLinePoints(s.xys)
			if err != nil {
				return nil, fmt.Errorf("plot %s: %w", title, err)
			}
			line.Color, line.Dashes, points.Color = s.c, s.dash, s.c
			p.Add(line, points)
			p.Legend.Add(s.name, line, points)
		}
		return p, nil
	}
	thr, err := panel("Throughput", "payouts per second", false, func(l report.Level) (float64, float64) {
		return l.Payoutflow.PerSecond, l.Peer.PerSecond
	})
	if err != nil {
		return err
	}
	p99, err := panel("Latency, create to final (p99)", "seconds", true, func(l report.Level) (float64, float64) {
		return l.Payoutflow.P99Ms / 1000, l.Peer.P99Ms / 1000
	})
	if err != nil {
		return err
	}
	const w, h = 10 * vg.Inch, 4 * vg.Inch
	img, err := draw.NewFormattedCanvas(w, h, strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return err
	}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{thr, p99}}, tiles, draw.New(img))
	thr.Draw(canvases[0][0])
	p99.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := img.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
