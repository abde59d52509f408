//! The JS validation API: `validateId`, `isValidId`, `validatePhone`, `validateEmail`, `validateName`.
