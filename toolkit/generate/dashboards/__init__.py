"""Grafana dashboards as data, from the services' plans.

``service`` builds one service's dashboard, ``overview`` the catalog's overview,
``templated`` one dashboard for every service; ``sections`` holds the panels built from
a service's series alone, ``panels`` the panel model and its JSON, ``stamp`` the
panels a service dashboard builds once and stamps per service, ``document`` the
dashboard around the panels.
"""
