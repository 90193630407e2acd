"""Pure domain maths: no Flask, no SQLAlchemy. Grams and yen are ints; rates are Decimals."""
