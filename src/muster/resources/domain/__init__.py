"""Pure rules of the resources part: the typing catalog, resources and statuses."""
