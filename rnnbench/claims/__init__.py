"""The recap claims: verdict vocabulary, the rules, and the claims table as data (torch-free)."""
