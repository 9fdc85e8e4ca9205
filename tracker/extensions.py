"""Flask extensions, created unbound here and bound to the app in the factory."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tracker.db import Base

# Objects stay readable after a commit without being reloaded: a view commits once and
# then only reads what it already has, and on SQLite a reload would open a new
# transaction, which (BEGIN IMMEDIATE, see tracker/db.py) takes the write lock.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()

# Models subclass `Model`, which is `db.Model`. A type checker cannot use an
# attribute of an object as a base class, so it is told what that class is made of:
# Flask-SQLAlchemy's model features on top of our declarative base.
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(_FlaskModel, Base):
        pass

else:
    Model = db.Model
