package expression

func prepSelectUniqueValue(p *prep) {
	if !p.top {
		p.errorAt(-1, "must be the outermost function of the expression")
	}
}

// evalSelectUniqueValue returns the first candidate that is not already in
// the target, asking Env.Exists. Candidates that are null or empty are
// skipped; when every candidate is taken the evaluation fails, so the
// object is retried later as Azure escrows it.
func evalSelectUniqueValue(e *Env, n *callNode) (Value, error) {
	if e.Exists == nil {
		return Value{}, n.failf("no uniqueness check is available for this target")
	}
	var tried []string
	for i := range n.args {
		s, ok, err := n.text(e, i)
		if err != nil {
			return Value{}, err
		}
		if !ok || s == "" {
			continue
		}
		taken, err := e.Exists(s)
		if err != nil {
			return Value{}, n.failf("checking %q: %v", s, err)
		}
		if !taken {
			return StringValue(s), nil
		}
		tried = append(tried, s)
	}
	return Value{}, n.failf("every candidate value already exists in the target: %q", tried)
}
