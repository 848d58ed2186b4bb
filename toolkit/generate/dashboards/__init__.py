"""Grafana dashboards as data, from the services' plans.

``service`` builds one service's dashboard, ``overview`` the catalog's overview,
``templated`` one dashboard for every service; ``sections`` holds the panels built from
a service's series alone, ``panels`` the panel model and its JSON, ``document`` the
dashboard around the panels.
"""
