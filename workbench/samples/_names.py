"""Name lists for the synthetic city, most common first (weights are Zipf-like by rank).

Common US given names and surnames, written out here so the generator has no data dependency.
The order is the popularity rank used by the generator; changing it changes the generated city.
"""

from __future__ import annotations

FEMALE_FIRST_NAMES: tuple[str, ...] = tuple(
    """
    Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
    Sandra Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie
    Dorothy Rebecca Sharon Laura Cynthia Amy Kathleen Angela Shirley Brenda Emma Anna Pamela
    Nicole Samantha Katherine Christine Helen Debra Rachel Carolyn Janet Maria Catherine Heather
    Diane Olivia Julie Joyce Victoria Ruth Virginia Lauren Kelly Christina Joan Evelyn Judith
    Andrea Hannah Megan Cheryl Jacqueline Martha Madison Teresa Gloria Sara Janice Ann Kathryn
    Abigail Sophia Frances Jean Alice Judy Isabella Julia Grace Amber Denise Danielle Marilyn
    Beverly Charlotte Natalie Theresa Diana Brittany Doris Kayla Alexis Lori Marie Rosa Lucia
    Mia Ava Chloe Camila Aaliyah Gabriela Valentina Zoe Layla Nora Ella Aria Scarlett Riley
    Leah Hazel Aurora Violet Stella Penelope Lillian Addison Eleanor Natasha Yolanda Carmen
    Guadalupe Ximena Mei Priya Aisha Fatima Keisha Tamika Latoya Ebony Imani Jasmine Destiny
    Erin Tiffany Crystal Vanessa Monica Erica Wendy Tracy Rosemary Irene Norma Paula Peggy
    """.split()
)

MALE_FIRST_NAMES: tuple[str, ...] = tuple(
    """
    James Robert John Michael David William Richard Joseph Thomas Christopher Charles Daniel
    Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian George Timothy
    Ronald Jason Edward Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin
    Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank Raymond Jack Dennis Jerry
    Tyler Aaron Jose Adam Nathan Henry Zachary Douglas Peter Kyle Noah Ethan Jeremy Walter
    Christian Keith Roger Terry Austin Sean Gerald Carl Harold Dylan Arthur Lawrence Jordan
    Jesse Bryan Billy Bruce Gabriel Joe Logan Alan Juan Albert Willie Elijah Wayne Randy Vincent
    Mason Roy Ralph Bobby Russell Bradley Philip Eugene Liam Lucas Oliver Elias Mateo Levi
    Sebastian Jayden Carter Owen Wyatt Julian Isaac Luke Hunter Caleb Isaiah Miguel Carlos
    Luis Diego Jorge Alejandro Ricardo Pedro Hector Manuel Wei Jian Hiroshi Rahul Arjun Omar
    Ahmed Tyrone Darnell Jamal Malik Andre Marcus Terrence Curtis Leonard Howard Stanley
    Travis Shawn Chad Derek Victor Martin Craig Clarence Earl Ernest Francis Glenn Phillip
    """.split()
)

LAST_NAMES: tuple[str, ...] = tuple(
    """
    Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin
    Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott
    Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans
    Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell
    Kelly Howard Cox Ward Richardson Watson Brooks Wood James Bennett Gray Hughes Price Sanders
    Myers Long Ross Foster Powell Jenkins Perry Russell Sullivan Butler Barnes Fisher Henderson
    Coleman Simmons Patterson Jordan Reynolds Hamilton Graham Wallace West Cole Hayes Bryant
    Gibson Ellis Stevens Murray Ford Marshall Owens McDonald Harrison Kennedy Wells Alexander
    Griffin Hunter Hicks Palmer Black Stone Warren Knight Hudson Grant Holmes Rose Dunn Hart
    Mason Spencer Gardner Payne Pierce Berry Matthews Arnold Wagner Willis Ray Watkins Olson
    Carroll Duncan Snyder Andrews Harper Fox Riley Armstrong Carpenter Weaver Greene Lawrence
    Elliott Chavez Sims Austin Peters Kelley Franklin Lawson Fields Ryan Schmidt Carr Castillo
    Wheeler Chapman Oliver Montgomery Richards Williamson Johnston Banks Meyer Bishop McCoy
    Howell Morrison Hansen Harvey Little Burton Stanley George Jacobs Reid Fuller Lynch Dean
    Gilbert Garrett Romero Welch Larson Frazier Burke Hanson Day Mendoza Moreno Bowman Medina
    Fowler Brewer Hoffman Carlson Silva Pearson Holland Douglas Fleming Jensen Vargas Byrd
    Davidson Hopkins May Terry Herrera Wade Soto Walters Curtis Neal Caldwell Lowe Jennings
    Barnett Graves Jimenez Horton Shelton Barrett Obrien Castro Sutton Gregory McKinney Lucas
    Miles Craig Rodriquez Chambers Holt Lambert Fletcher Watts Bates Hale Rhodes Pena Beck
    Newman Haynes McDaniel Mendez Bush Vaughn Parks Dawson Santiago Norris Hardy Love Steele
    Curry Powers Schultz Barker Guzman Page Munoz Ball Keller Chandler Weber Leonard Walsh
    Lyons Ramsey Wolfe Schneider Mullins Benson Sharp Bowen Daniel Barber Cummings Hines
    Baldwin Griffith Valdez Hubbard Salazar Reeves Warner Stevenson Burgess Santos Tate Cross
    Garner Mann Mack Moss Thornton Dennis McGee Farmer Delgado Aguilar Vega Glover Manning
    Cohen Harmon Rodgers Robbins Newton Todd Blair Higgins Ingram Reese Cannon Strickland
    Townsend Potter Goodwin Walton Rowe Hampton Ortega Patton Swanson Joseph Francis Goodman
    Maldonado Yates Becker Erickson Hodges Rios Conner Adkins Webster Norman Malone Hammond
    Flowers Cobb Moody Quinn Blake Maxwell Pope Floyd Osborne Paul McCarthy Guerrero Lindsey
    Estrada Sandoval Gibbs Tyler Gross Fitzgerald Stokes Doyle Sherman Saunders Wise Colon Gill
    Alvarado Greer Padilla Simon Waters Nunez Ballard Schwartz McBride Houston Christensen Klein
    Pratt Briggs Parsons McLaughlin Zimmerman French Buchanan Moran Copeland Roy Pittman Brady
    """.split()
)

HISPANIC_LAST_NAMES: tuple[str, ...] = tuple(
    """
    Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores
    Rivera Gomez Diaz Cruz Reyes Morales Gutierrez Ortiz Ramos Ruiz Alvarez Mendoza Vasquez
    Castillo Jimenez Moreno Romero Herrera Medina Aguilar Vargas Guzman Munoz Mendez Salazar
    Soto Delgado Pena Rios Contreras Sandoval Guerrero Estrada Ortega Nunez Espinoza Dominguez
    Vazquez Figueroa Cabrera Campos Fuentes Acosta Navarro Rojas Juarez Luna Cortez Ibarra
    """.split()
)

ASIAN_LAST_NAMES: tuple[str, ...] = tuple(
    """
    Nguyen Tran Le Pham Kim Lee Park Choi Chen Wang Li Zhang Liu Yang Huang Zhao Wu Zhou Xu
    Sun Ma Zhu Hu Lin Guo He Patel Shah Singh Kumar Sharma Gupta Khan Ali Yamamoto Tanaka
    Watanabe Ito Nakamura Kobayashi Sato Suzuki Takahashi Wong Chan Cheng Ho Lam Huynh Vu Dang
    Bui Do Ngo Duong Hoang
    """.split()
)
