"""Resources: the people who do the response work (staff, skills, certifications, on-call roster),
teams at province, city and county level and their deployments (支援), training and exercises, and
supplies on hand with their consumption, days of stock left and reorder alerts."""
