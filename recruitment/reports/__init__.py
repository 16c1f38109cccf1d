"""Reports for coordinators, investigators and sponsors, computed in the database.

`dashboard`: progress, funnel, CONSORT counts, weekly series, projections (the /staff/ page).
`exports`: the screening log, the identification list and the FHIR R4 bundle.
"""
