package optimizers

// Every optimizer here embeds Clip and Decay; ClipOf and DecayOf reach
// them through an Optimizer value, so that code serving every optimizer
// (a CLI's --clipnorm and --weight-decay flags, a config loader) sets them
// without a type switch. An optimizer defined elsewhere takes part by
// embedding Clip and Decay too.

type clipper interface{ clipSettings() *Clip }

type decayer interface{ decaySettings() *Decay }

func (c *Clip) clipSettings() *Clip { return c }

func (d *Decay) decaySettings() *Decay { return d }

// ClipOf returns o's clipping settings, to read or change, or nil when o
// does not embed Clip.
func ClipOf(o Optimizer) *Clip {
	if c, ok := o.(clipper); ok {
		return c.clipSettings()
	}
	return nil
}

// DecayOf returns o's weight-decay settings, to read or change, or nil
// when o does not embed Decay.
func DecayOf(o Optimizer) *Decay {
	if d, ok := o.(decayer); ok {
		return d.decaySettings()
	}
	return nil
}
