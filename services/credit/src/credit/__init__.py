"""credit service: credit ledgers of property companies (信用), penalties and the outbound
feeds to 信用中国(福建) and market regulation."""
