"""casework service: complaints to closure, police referrals and 智慧监督 warnings."""
