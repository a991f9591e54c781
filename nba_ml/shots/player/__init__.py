"""Player-level shot models: where a given player shoots (chart_posterior) and how well (make_model),
built once per player into profiles a simulator draws from (profiles)."""
