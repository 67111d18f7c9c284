"""Customer service work: visits with guidance follow-up, and the CM's task list."""
