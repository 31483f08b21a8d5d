"""disclosure service: communities and their quarterly public-revenue disclosures (公共收益公示)."""
