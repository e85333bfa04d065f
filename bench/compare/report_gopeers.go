package main

import "fmt"

// goPeerLine describes a Go peer for the machine table: its version and
// what it is, or why it was not measured.
func (b *bench) goPeerLine(name, versionKey, what string) string {
	g := b.goPeers[name]
	if !g.measured() {
		return "not measured: " + g.why
	}
	return fmt.Sprintf("%s (bench/%s, its own module), %s", b.infoOr(versionKey, "—"), name, what)
}

// bestGo returns the thread count among b.threadCounts() at which a Go
// peer's median for pattern (one %d for the thread count) is best: the
// highest when higher is better, else the lowest.
func (b *bench) bestGo(pattern string, higher bool) (int, float64, bool) {
	bt, bv, found := 0, 0.0, false
	for _, t := range b.threadCounts() {
		v, ok := b.med(fmt.Sprintf(pattern, t))
		if !ok {
			continue
		}
		if !found || (higher && v > bv) || (!higher && v < bv) {
			bt, bv, found = t, v, true
		}
	}
	return bt, bv, found
}

// rowsGo is rows for a Go peer: myelin on 1 thread against the peer on 1,
// on 2 against the peer on 2, and on all cores against the peer's best
// thread count. Both patterns take one %d for the thread count.
func (b *bench) rowsGo(myKey, peerKey, peer string, higher bool) []pair {
	var out []pair
	for _, t := range []int{1, 2} {
		label := fmt.Sprintf("%d threads", t)
		if t == 1 {
			label = "1 thread"
		}
		v, ok := b.med(fmt.Sprintf(peerKey, t))
		name := fmt.Sprintf("GOMAXPROCS %d", t)
		if !ok {
			v, name = nan, "—"
		}
		out = append(out, pair{label, b.get(fmt.Sprintf(myKey, t)), v, name})
	}
	bt, bv, ok := b.bestGo(peerKey, higher)
	name := fmt.Sprintf("GOMAXPROCS %d", bt)
	if !ok {
		bv, name = nan, "—"
	}
	out = append(out, pair{fmt.Sprintf("all cores (%d) vs %s's best", b.cfg.maxProcs, peer), b.get(fmt.Sprintf(myKey, b.cfg.maxProcs)), bv, name})
	return out
}

// gorgonia prints the training comparison with Gorgonia.
func (b *bench) gorgonia(p printer) {
	p("### Against Gorgonia, in the same rounds\n\n")
	if g := b.goPeers["gorgonia"]; !g.measured() {
		p("Gorgonia: not measured (%s).\n\n", g.why)
		return
	}
	p("The founding model in Gorgonia (`bench/gorgonia`, its own module): the same layers, Keras's BN ε and\n")
	p("momentum, glorot_uniform weights, Adam (lr 1e-3, ε 1e-7), float32, shuffled MNIST with batch gathering\n")
	p("timed, the same timed and untimed step counts. Gorgonia's graph has a fixed batch size, so it drops an\n")
	p("epoch's last partial batch; it computes no accuracy metric. Its products run on gonum's Sgemm, which\n")
	p("follows GOMAXPROCS.\n\n")
	p("| batch | myelin threads | myelin samples/s | Gorgonia samples/s (GOMAXPROCS) | myelin/Gorgonia |\n|---|---|---|---|---|\n")
	for _, batch := range []int{32, 128} {
		for _, q := range b.rowsGo("train/myelin/t=%d/b="+fmt.Sprint(batch), "train/gorgonia/t=%d/b="+fmt.Sprint(batch), "Gorgonia", true) {
			p("| %d | %s | %s | %s (%s) | %s |\n", batch, q.label, count(q.mine), count(q.peer), q.peerSetting, times(q.ratio()))
		}
	}
	p("\n")
}
